// A git repository served over smart HTTP on 127.0.0.1 (`git http-backend` as CGI behind
// Bun.serve), with a working copy the test commits to. Services point their git_url at it (the
// test app allows 127.0.0.0/8 with --git-allow-hosts, as an operator would for an internal host).
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Server } from "bun";

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t", GIT_CONFIG_NOSYSTEM: "1" };

export function git(cwd: string, ...args: string[]): string {
  const r = Bun.spawnSync(["git", ...args], { cwd, env: gitEnv });
  if (r.exitCode !== 0) throw new Error(`git ${args.join(" ")}: ${r.stderr.toString()}`);
  return r.stdout.toString().trim();
}

export type GitHttpRepo = {
  /** http://127.0.0.1:<port>/<name>.git */
  url: string;
  /** the bare repository on disk */
  bare: string;
  /** Write files into the working copy, commit on `branch` and push; returns the commit id. */
  commit: (files: Record<string, string | { content: string; mode: number }>, opts?: { branch?: string; message?: string }) => string;
  stop: () => void;
};

async function backend(root: string, req: Request): Promise<Response> {
  const url = new URL(req.url);
  const proc = Bun.spawn(["git", "http-backend"], {
    env: { ...process.env, GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: "1", PATH_INFO: url.pathname, QUERY_STRING: url.search.slice(1), REQUEST_METHOD: req.method, CONTENT_TYPE: req.headers.get("content-type") ?? "", REMOTE_ADDR: "127.0.0.1" },
    stdin: req.body ? new Uint8Array(await req.arrayBuffer()) : "ignore",
    stdout: "pipe",
  });
  const out = Buffer.from(await new Response(proc.stdout).arrayBuffer());
  const split = out.indexOf("\r\n\r\n");
  const headers = new Headers();
  let status = 200;
  for (const line of out.subarray(0, split).toString().split("\r\n")) {
    const [k, ...v] = line.split(":");
    if (k!.toLowerCase() === "status") status = Number(v.join(":").trim().split(" ")[0]);
    else if (k) headers.set(k, v.join(":").trim());
  }
  return new Response(out.subarray(split + 4), { status, headers });
}

/** `token`: the server answers 401 unless a request carries it as GitHub takes it (Basic x-access-token:<token>). */
export function startGitHttp(name = "app", opts: { token?: string } = {}): GitHttpRepo {
  const dir = mkdtempSync(join(tmpdir(), "ancla-git-http-"));
  const served = join(dir, "served");
  const bare = join(served, `${name}.git`);
  const work = join(dir, "work");
  mkdirSync(served);
  git(dir, "init", "-q", "--bare", "-b", "main", bare);
  git(dir, "init", "-q", "-b", "main", work);
  git(work, "remote", "add", "origin", bare);
  const wanted = opts.token ? "Basic " + Buffer.from(`x-access-token:${opts.token}`).toString("base64") : null;
  const server: Server<unknown> = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => (wanted && req.headers.get("authorization") !== wanted ? new Response("Authentication required", { status: 401, headers: { "www-authenticate": 'Basic realm="git"' } }) : backend(served, req)),
  });
  return {
    url: `http://127.0.0.1:${server.port}/${name}.git`,
    bare,
    commit(files, opts = {}) {
      const branch = opts.branch ?? "main";
      const branches = git(work, "branch", "--list", branch);
      if (git(work, "symbolic-ref", "--short", "HEAD") !== branch) git(work, "checkout", "-q", ...(branches ? [] : ["-b"]), branch);
      for (const [path, f] of Object.entries(files)) {
        const { content, mode } = typeof f === "string" ? { content: f, mode: 0o644 } : f;
        mkdirSync(dirname(join(work, path)), { recursive: true });
        writeFileSync(join(work, path), content, { mode });
      }
      git(work, "add", "-A");
      git(work, "commit", "-q", "--allow-empty", "-m", opts.message ?? "change");
      git(work, "push", "-q", "origin", branch);
      return git(work, "rev-parse", "HEAD");
    },
    stop() {
      server.stop(true);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
