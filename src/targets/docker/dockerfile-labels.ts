// The Dockerfile and .dockerignore Ancla injects into a build context to label the image in one step (pure).
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
