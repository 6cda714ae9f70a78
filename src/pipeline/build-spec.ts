// Pure build description: names, labels, build args and the build log's progress parsing.
// Data in, data out — the Docker calls live in targets/docker/build.ts.
export type ServiceNames = { org: string; project: string; env: string; service: string };

export const MANAGED_LABEL = "dev.ancla.managed";
export const LABEL = {
  org: "dev.ancla.org",
  project: "dev.ancla.project",
  env: "dev.ancla.env",
  service: "dev.ancla.service",
  version: "dev.ancla.version",
} as const;

/** `ancla/<org>-<project>-<env>-<service>` (slugs are DNS labels, so the name is a valid repository). */
export const repositoryName = (n: ServiceNames): string => `ancla/${n.org}-${n.project}-${n.env}-${n.service}`;
export const versionTag = (version: number): string => `v${version}`;
export const imageReference = (n: ServiceNames, version: number): string => `${repositoryName(n)}:${versionTag(version)}`;

// The legacy builder turns every label into its own LABEL step (a container and a commit each), so
// images carry only these six; the service is identified by its org/project/env/service slugs.
export function imageLabels(n: ServiceNames, version: number): Record<string, string> {
  return {
    [MANAGED_LABEL]: "true",
    [LABEL.org]: n.org,
    [LABEL.project]: n.project,
    [LABEL.env]: n.env,
    [LABEL.service]: n.service,
    [LABEL.version]: String(version),
  };
}

export type BuildVar = { name: string; value: string; secret: boolean; buildtime: boolean };

/** Non-secret buildtime vars become build args; secret buildtime vars are withheld (names only). */
export function buildArgs(vars: BuildVar[]): { args: Record<string, string>; withheld: string[] } {
  const args: Record<string, string> = {};
  const withheld: string[] = [];
  for (const v of vars) {
    if (!v.buildtime) continue;
    if (v.secret) withheld.push(v.name);
    else args[v.name] = v.value;
  }
  return { args, withheld: withheld.sort() };
}

/** `https://github.com/<owner>/<name>.git`, or the service's own git URL (which wins). */
export function gitSourceUrl(s: { gitUrl: string | null; githubRepository: string | null }): string | null {
  if (s.gitUrl) return s.gitUrl;
  if (s.githubRepository) return `https://github.com/${s.githubRepository}.git`;
  return null;
}

/** A full or abbreviated commit id (fetched by id instead of cloned as a branch). */
export const looksLikeCommit = (ref: string): boolean => /^[0-9a-f]{7,40}$/.test(ref);

/** git argv (never a shell) for a shallow checkout of `ref` into `dir`; `config` (`-c k=v` pairs) goes on every network step. */
export function gitCloneCommands(url: string, ref: string | null, dir: string, config: string[] = []): string[][] {
  if (ref && looksLikeCommit(ref)) {
    return [
      ["git", "init", "-q", dir],
      ["git", ...config, "-C", dir, "fetch", "-q", "--depth", "1", "--", url, ref],
      ["git", "-C", dir, "checkout", "-q", "--detach", "FETCH_HEAD"],
    ];
  }
  const branch = ref ? ["--branch", ref] : [];
  return [["git", ...config, "clone", "-q", "--depth", "1", ...branch, "--", url, dir]];
}

export type BuildEvent =
  | { kind: "log"; text: string }
  | { kind: "step"; index: number; total: number; instruction: string }
  | { kind: "container"; id: string }
  | { kind: "built"; id: string }
  | { kind: "error"; message: string };

/** One JSON progress line of the legacy builder → events (log text, step, intermediate container, error). */
export function parseBuildLine(line: string): BuildEvent[] {
  let msg: { stream?: string; status?: string; error?: string; errorDetail?: { message?: string }; aux?: { ID?: string } };
  try {
    msg = JSON.parse(line);
  } catch {
    return line.trim() ? [{ kind: "log", text: line }] : [];
  }
  const out: BuildEvent[] = [];
  if (msg.error || msg.errorDetail?.message) {
    const message = (msg.errorDetail?.message ?? msg.error ?? "build failed").trim();
    out.push({ kind: "log", text: message }, { kind: "error", message });
    return out;
  }
  if (msg.aux?.ID) out.push({ kind: "built", id: msg.aux.ID });
  const text = msg.stream ?? msg.status;
  if (typeof text !== "string") return out;
  for (const l of text.split("\n")) {
    const clean = l.replace(/\r/g, "").trimEnd();
    if (!clean) continue;
    out.push({ kind: "log", text: clean });
    const step = /^Step (\d+)\/(\d+) : (.*)$/.exec(clean);
    if (step) out.push({ kind: "step", index: Number(step[1]), total: Number(step[2]), instruction: step[3]! });
    const running = /^ ---> Running in ([0-9a-f]{12,64})$/.exec(clean);
    if (running) out.push({ kind: "container", id: running[1]! });
    const built = /^Successfully built ([0-9a-f]{12,64})$/.exec(clean);
    if (built && !msg.aux) out.push({ kind: "built", id: built[1]! });
  }
  return out;
}

/** Whether image labels say the platform built this image for this service. */
export const isServiceImage = (labels: Record<string, string> | null | undefined, n: ServiceNames): boolean =>
  !!labels &&
  labels[MANAGED_LABEL] === "true" &&
  labels[LABEL.org] === n.org &&
  labels[LABEL.project] === n.project &&
  labels[LABEL.env] === n.env &&
  labels[LABEL.service] === n.service;

/** Which images to remove: all but the newest `keep` (at least 1) complete versions, oldest first. */
export function imagesToPrune<T extends { version: number }>(complete: T[], keep: number): T[] {
  const sorted = [...complete].sort((a, b) => a.version - b.version);
  return sorted.slice(0, Math.max(0, sorted.length - Math.max(keep, 1))); // the newest build always stays
}

/** Name of the Dockerfile Ancla adds to a context (the user's Dockerfile + one LABEL line). */
export const INJECTED_DOCKERFILE = ".ancla.Dockerfile";

/**
 * The user's Dockerfile with all labels in ONE trailing LABEL instruction. The legacy builder
 * turns each `labels` build parameter into its own LABEL step (a container and a commit each,
 * ~150 ms apiece); one instruction costs one step. It applies to the final stage, like --label.
 */
export function labelledDockerfile(dockerfile: string, labels: Record<string, string>): string {
  const pairs = Object.entries(labels)
    .sort(([a], [b]) => (a < b ? -1 : 1))
    .map(([k, v]) => `${JSON.stringify(k)}=${JSON.stringify(v)}`);
  return `${dockerfile.replace(/\s*$/, "")}\nLABEL ${pairs.join(" ")}\n`;
}

/**
 * .dockerignore for the rewritten context: the daemon drops the Dockerfile it built from (and
 * .dockerignore itself) when .dockerignore matches them, so the injected file never reaches
 * COPY. Without a user .dockerignore both injected files vanish; with one, it keeps its rules.
 */
export function injectedDockerignore(existing: string | null): string {
  if (existing === null) return `${INJECTED_DOCKERFILE}\n.dockerignore\n`;
  return `${existing.replace(/\s*$/, "")}\n${INJECTED_DOCKERFILE}\n`;
}
