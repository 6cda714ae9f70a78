// A git build's context: check the remote again right before cloning (DNS answers change after a
// service was saved), clone pinned to the checked addresses, then resolve `subdirectory` and the
// Dockerfile with realpath and keep both inside the checkout. A symlink committed to a repository
// must never move the build root, the Dockerfile or the Procfile onto the server's own disk.
import { readFileSync, realpathSync, statSync } from "node:fs";
import { join, relative, sep } from "node:path";
import type { Deps } from "../../deps";
import { checkGitSource, clonePlan, GitSourceRefused } from "../../lib/git-source";
import { checkout, GitFailed, maskUrl } from "../../lib/git";
import { imageHooks } from "./hooks";

/** A failure whose message is meant for the user (shown as the image's error_detail). */
export class BuildError extends Error {}

const isInside = (root: string, path: string) => {
  const r = relative(root, path);
  return r === "" || (!r.startsWith(".." + sep) && r !== ".." && !r.startsWith(sep));
};

/** realpath of `rel` under `root`, refused unless it stays inside `root`; null when nothing is there. */
export function resolveInside(root: string, rel: string, what: string, where = "the build context"): string | null {
  let real: string;
  try {
    real = realpathSync(join(root, rel));
  } catch {
    return null; // missing, or a symlink to nothing: nothing is read
  }
  if (!isInside(root, real)) throw new BuildError(`${what} '${rel}' resolves through a symbolic link to a path outside ${where}; refused.`);
  return real;
}

/** Text of a file inside `root` (symlinks resolved and kept inside); null when missing. */
export function readInside(root: string, rel: string, what: string): string | null {
  const real = resolveInside(root, rel, what);
  if (real === null) return null;
  if (!statSync(real).isFile()) throw new BuildError(`${what} '${rel}' is not a file.`);
  return readFileSync(real, "utf8");
}

export type GitContext = { root: string; sha: string; dockerfile: string | null; procfile: string | null };

type GitBuild = { serviceId: string; gitUrl: string; ref: string | null; subdirectory: string | null; dockerfilePath: string };
type JobIo = { signal: AbortSignal; log: (line: string) => void; checkedOut: (sha: string) => void };

/** Clones into `<workDir>/src` and returns the checked build root with its Dockerfile and Procfile. */
export async function prepareGitContext(deps: Deps, b: GitBuild, workDir: string, io: JobIo): Promise<GitContext> {
  let plan: ReturnType<typeof clonePlan>;
  let checked: Awaited<ReturnType<typeof checkGitSource>>;
  try {
    // file:// URLs could only be saved by a server administrator (services/service.ts), so they pass here
    checked = await checkGitSource(b.gitUrl, { allowLocal: true, allow: deps.config.gitAllowHosts, unresolved: "refuse" });
    plan = clonePlan(checked);
  } catch (e) {
    if (e instanceof GitSourceRefused) throw new BuildError(`Refused to clone ${maskUrl(b.gitUrl)}: ${e.message}.`);
    throw e;
  }
  const src = join(workDir, "src");
  io.log(`cloning ${maskUrl(b.gitUrl)} at ${b.ref ?? "the default branch"}`);
  // a private repository's credentials live outside src/ (the build context) and go once the clone ends
  const auth = imageHooks.get().gitAuth(deps, b.serviceId, checked.remote, workDir);
  if (auth) io.log(auth.note);
  let sha: string;
  try {
    sha = await checkout(plan.url, b.ref, src, { signal: io.signal, log: io.log, config: plan.config, env: auth?.env });
  } catch (e) {
    const better = auth?.finish(false, e instanceof GitFailed ? e.detail : (e as Error).message);
    if (better) throw new BuildError(better);
    throw e;
  }
  auth?.finish(true);
  io.checkedOut(sha);
  const checkoutRoot = realpathSync(src);
  const root = b.subdirectory ? resolveInside(checkoutRoot, b.subdirectory, "Subdirectory", "the repository checkout") : checkoutRoot;
  if (!root || !statSync(root).isDirectory()) throw new BuildError(`Subdirectory '${b.subdirectory}' does not exist in the repository.`);
  // the Dockerfile and Procfile must stay inside the build root itself: that is the context Docker gets
  const dockerfile = readInside(root, b.dockerfilePath, "Dockerfile");
  const procfile = readInside(root, "Procfile", "Procfile");
  return { root, sha, dockerfile, procfile };
}
