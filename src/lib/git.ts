// Shallow checkouts with the git binary (argument arrays, never a shell; `--` before URLs).
import { rmSync } from "node:fs";
import { z } from "zod";

/** `https://github.com/<owner>/<name>.git`, or the service's own git URL (which wins). */
export function gitSourceUrl(s: { gitUrl: string | null; githubRepository: string | null }): string | null {
  if (s.gitUrl) return s.gitUrl;
  if (s.githubRepository) return `https://github.com/${s.githubRepository}.git`;
  return null;
}

/** Branch, tag or commit (git check-ref-format rules, simplified to a safe subset). */
export const gitRefSchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[A-Za-z0-9_][A-Za-z0-9._\/-]*$/, "must be a branch, tag or commit (letters, digits, . _ / -), not starting with '-'")
  .refine((s) => !s.includes("..") && !s.endsWith("/") && !s.endsWith(".lock") && !s.includes("//"), "is not a valid git ref");

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

/** `detail`: git's whole error output (URLs masked), for callers that look for a known cause. */
export class GitFailed extends Error {
  constructor(
    message: string,
    readonly detail = message,
  ) {
    super(message);
  }
}

/** The server's environment minus its own settings (ANCLA_MASTER_KEY among them): git needs PATH/HOME, never our secrets. */
// GIT_ALLOW_PROTOCOL and GIT_CONFIG_* would override the transport rules a clone is given
const gitEnv = () => ({
  ...Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ANCLA_") && k !== "GIT_ALLOW_PROTOCOL" && !k.startsWith("GIT_CONFIG_"))),
  GIT_TERMINAL_PROMPT: "0", // never wait for a password on the server's terminal
  GIT_ASKPASS: "/bin/false",
  GIT_CONFIG_NOSYSTEM: "1",
  GIT_LFS_SKIP_SMUDGE: "1", // LFS would fetch from URLs in the repository that no address check has seen
  // ssh remotes: fail instead of prompting for a password or an unknown host key
  GIT_SSH_COMMAND: "ssh -o BatchMode=yes -o StrictHostKeyChecking=accept-new",
  LC_ALL: "C",
});

/** `https://user@host` → `https://***@host`: user parts of URLs may be tokens. */
export const maskUrl = (url: string): string => url.replace(/\/\/[^/@\s]+@/g, "//***@");

async function run(argv: string[], signal: AbortSignal | undefined, timeoutMs: number, extraEnv: Record<string, string> = {}): Promise<string> {
  const proc = Bun.spawn(argv, { env: { ...gitEnv(), ...extraEnv }, stdin: "ignore", stdout: "pipe", stderr: "pipe", signal, timeout: timeoutMs });
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  if (code !== 0) {
    const msg = err.trim().split("\n").slice(-3).join(" ") || `exit code ${code}`;
    throw new GitFailed(maskUrl(msg), maskUrl(err));
  }
  return out.trim();
}

/** `env`: credentials for this clone only (GIT_SSH_COMMAND with a deploy key, GIT_CONFIG_* with a token header) — never argv, which other users can read. */
export type CheckoutOptions = { signal?: AbortSignal; timeoutMs?: number; log?: (line: string) => void; config?: string[]; env?: Record<string, string> };

/** Checks out `ref` (branch, tag or commit; default branch when null) into `dir`; returns the commit sha. `config`: git `-c` pairs (see git-source.ts clonePlan). */
export async function checkout(url: string, ref: string | null, dir: string, opts: CheckoutOptions = {}): Promise<string> {
  const timeout = opts.timeoutMs ?? 600_000;
  const log = opts.log ?? (() => {});
  const config = opts.config ?? [];
  const env = opts.env ?? {};
  try {
    for (const argv of gitCloneCommands(url, ref, dir, config)) await run(argv, opts.signal, timeout, env);
  } catch (e) {
    if (!(ref && looksLikeCommit(ref)) || opts.signal?.aborted) throw e;
    // servers that refuse to serve a commit by id (or an abbreviated id): full clone, then check it out
    log(`fetching commit ${ref} directly failed (${(e as Error).message}); cloning the full history`);
    rmSync(dir, { recursive: true, force: true });
    await run(["git", ...config, "clone", "-q", "--no-checkout", "--", url, dir], opts.signal, timeout, env);
    await run(["git", "-C", dir, "checkout", "-q", "--detach", ref], opts.signal, timeout);
  }
  return run(["git", "-C", dir, "rev-parse", "HEAD"], opts.signal, 30_000);
}
