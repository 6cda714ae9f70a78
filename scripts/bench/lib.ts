// Shared benchmark helpers: seed a data dir through the real app, start `ancla serve` and a bare
// Bun.serve as subprocesses, read RSS. The load generator is wrk (wrk.ts).
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { createApp } from "../../src/app";
import { serveConfigSchema } from "../../src/config";
import { closeDeps, createDeps } from "../../src/deps";
import { silentLogger } from "../../src/lib/logger";
import { createUser } from "../../src/modules/auth/service";
import { createApiKey } from "../../src/modules/keys/service";
import { deployments, images, releases, services } from "../../src/db/schema";
import { newId } from "../../src/lib/ids";

const ROOT = resolve(import.meta.dir, "../..");
export const BINARY = process.env.ANCLA_BIN ? resolve(process.env.ANCLA_BIN) : join(ROOT, "ancla");

/** `ancla …` argv: the compiled binary when it exists (what users run), else the source. */
export function anclaArgv(): { argv: string[]; label: string } {
  if (existsSync(BINARY)) return { argv: [BINARY], label: `compiled ${BINARY}` };
  return { argv: [process.execPath, join(ROOT, "src/main.ts")], label: "bun src/main.ts (no ./ancla: run `bun run build` first)" };
}

export const tempDir = (prefix: string) => mkdtempSync(join(tmpdir(), prefix));

export type Seeded = { dataDir: string; key: string; memberKey: string };
type Handle = (method: string, path: string, body?: unknown) => Promise<any>;

export type SeedOptions = {
  services: number;
  fillerServices?: number;
  perProject?: number;
  /** config variables per scope (organization, project, environment, and service svc-0), one in five secret */
  configPerScope?: number;
  /** failed deployments (each with its image and release), spread over the first ten services of acme/web */
  deployments?: number;
};

/**
 * A data dir holding org `acme`, project `web` with `services` applications, plus `fillerServices`
 * more in other projects of another user's org (database size without changing what acme lists).
 * `key` is the server admin `bench`'s (acme's owner), `memberKey` the plain member `dev`'s.
 */
export async function seed(opts: SeedOptions): Promise<Seeded> {
  const dataDir = tempDir("ancla-bench-");
  const deps = createDeps(serveConfigSchema.parse({ dataDir }), { logger: silentLogger });
  const app = createApp(deps);
  const handleAs =
    (key: string): Handle =>
    async (method, path, body) => {
      const init: RequestInit = { method, headers: { "x-api-key": key, "content-type": "application/json" } };
      if (body !== undefined) init.body = JSON.stringify(body);
      const res = await app.handle(new Request("http://localhost" + path, init));
      const json = await res.json();
      if (res.status >= 300) throw new Error(`seed ${method} ${path} → ${res.status}: ${JSON.stringify(json)}`);
      return json;
    };
  try {
    const bench = await createUser(deps, { username: "bench", email: "bench@example.test", password: "bench-password-1", admin: true });
    const key = createApiKey(deps, bench.id, { name: "bench" }).key;
    const dev = await createUser(deps, { username: "dev", email: "dev@example.test", password: "dev-password-1" });
    const memberKey = createApiKey(deps, dev.id, { name: "dev" }).key;
    const as = handleAs(key);
    await fill(as, "acme", "web", opts.services, 1);
    await as("POST", "/api/v1/organizations/acme/members", { username: "dev" });
    if (opts.configPerScope) await seedConfig(as, opts.configPerScope);
    if (opts.deployments) seedDeployments(deps, opts.deployments);
    if (opts.fillerServices) {
      const filler = await createUser(deps, { username: "filler", email: "filler@example.test", password: "filler-password-1" });
      const as = handleAs(createApiKey(deps, filler.id, { name: "filler" }).key);
      const per = opts.perProject ?? 100;
      for (let p = 0; p * per < opts.fillerServices; p++) {
        await fill(as, "bulk", `p${p}`, Math.min(per, opts.fillerServices - p * per), p === 0 ? 1 : 0);
      }
    }
    return { dataDir, key, memberKey };
  } finally {
    closeDeps(deps);
  }
}

async function fill(as: Handle, org: string, project: string, count: number, createOrg: number) {
  if (createOrg) await as("POST", "/api/v1/organizations", { name: org, slug: org });
  await as("POST", `/api/v1/projects/${org}`, { name: project, slug: project });
  for (let i = 0; i < count; i++) await as("POST", `/api/v1/applications/${org}/${project}`, { name: `svc-${i}`, slug: `svc-${i}` });
}

/** Variables at four scopes of acme/web/production/svc-0 with overlapping names (each level overrides some of the one above). */
async function seedConfig(as: Handle, perScope: number) {
  const base = "/api/v1/orgs/acme";
  const paths = [`${base}/config`, `${base}/projects/web/config`, `${base}/projects/web/envs/production/config`, `${base}/projects/web/envs/production/services/svc-0/config`];
  let n = 0;
  for (const [level, path] of paths.entries()) {
    for (let i = 0; i < perScope; i++) {
      const secret = n++ % 5 === 0;
      await as("POST", path, { name: `VAR_${level * Math.ceil(perScope / 2) + i}`, value: `value-${level}-${i}-${"x".repeat(30)}`, secret, buildtime: i % 3 === 0 });
    }
  }
}

/** Failed deployments with their images and releases, written directly (no Docker needed to list them, nothing to heal). */
function seedDeployments(deps: ReturnType<typeof createDeps>, count: number) {
  const svcs = deps.db.select({ id: services.id, slug: services.slug }).from(services).orderBy(services.createdAt).limit(10).all();
  const t0 = Date.UTC(2026, 0, 1);
  const version = new Map<string, number>();
  for (let i = 0; i < count; i++) {
    const svc = svcs[i % svcs.length]!;
    const v = (version.get(svc.id) ?? 0) + 1;
    version.set(svc.id, v);
    const at = new Date(t0 + i * 60_000).toISOString();
    const stamp = { createdAt: at, updatedAt: at };
    const imageId = newId();
    const releaseId = newId();
    const repositoryName = `ancla/acme-web-production-${svc.slug}`;
    deps.db.insert(images).values({ id: imageId, serviceId: svc.id, version: v, status: "complete", source: "image", repositoryName, tag: `v${v}`, processes: { web: null }, ...stamp, startedAt: at, finishedAt: at }).run();
    deps.db
      .insert(releases)
      .values({ id: releaseId, serviceId: svc.id, version: v, status: "complete", imageId, imageVersion: v, imageRef: `${repositoryName}:v${v}`, repositoryName, tag: `v${v}`, processes: { web: null }, config: [], port: 8000, healthCheckPath: "/", imageChanges: {}, configurationChanges: {}, ...stamp })
      .run();
    deps.db
      .insert(deployments)
      .values({
        id: newId(),
        serviceId: svc.id,
        releaseId,
        version: v,
        kind: "deploy",
        // failed ones: a complete deployment claims replicas, which the server would try to bring back
        status: "error",
        errorDetail: "seeded by the benchmark",
        deployStep: { name: "health", index: 3, total: 5 },
        metadata: { target: "docker", process_counts: { web: 1 } },
        ...stamp,
        startedAt: at,
        finishedAt: at,
      })
      .run();
  }
}

export type Proc = { url: string; proc: Subprocess; stop: () => Promise<void> };

/** Spawn argv and wait for its stdout to print an http URL; resolves with that URL. */
export async function spawnServer(argv: string[], pattern = /(http:\/\/127\.0\.0\.1:\d+)/): Promise<Proc> {
  const proc = Bun.spawn(argv, { stdout: "pipe", stderr: "ignore", stdin: "ignore", env: { ...process.env, HOME: tmpdir() } });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let text = "";
  while (!pattern.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`${argv.join(" ")} exited before listening:\n${text}`);
    text += decoder.decode(value, { stream: true });
  }
  void (async () => {
    while (!(await reader.read()).done);
  })();
  const stop = async () => {
    proc.kill("SIGTERM");
    await proc.exited;
  };
  return { url: pattern.exec(text)![1]!, proc, stop };
}

/** `ancla serve` on dataDir; `binary` runs another build instead (a baseline compared side by side). */
export const startAncla = (dataDir: string, listen = "127.0.0.1:0", binary?: string) =>
  spawnServer([...(binary ? [binary] : anclaArgv().argv), "serve", "--data-dir", dataDir, "--listen", listen, "--router", "127.0.0.1:0"]);

/** A bare Bun.serve answering each path with the given bytes. */
export async function startBare(bodies: Record<string, string>): Promise<Proc> {
  const dir = tempDir("ancla-bare-");
  writeFileSync(join(dir, "bodies.json"), JSON.stringify(bodies));
  const bare = await spawnServer([process.execPath, join(import.meta.dir, "bare.ts"), join(dir, "bodies.json")]);
  return { ...bare, stop: () => bare.stop().finally(() => removeDir(dir)) };
}

export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Resident set size of a process in MiB, from /proc/<pid>/status. */
export function rssMiB(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"));
  return m ? Number(m[1]) / 1024 : NaN;
}

export const removeDir = (dir: string) => rmSync(dir, { recursive: true, force: true });
export const fmt = (n: number, digits = 1) => (Number.isFinite(n) ? n.toFixed(digits) : "n/a");
