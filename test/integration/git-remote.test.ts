// The real git binary against a real smart-HTTP server on 127.0.0.1 (`git http-backend` as CGI):
// a clone connects to the address that was checked (not to a fresh DNS answer), never follows a
// redirect, and cannot use any transport but the checked one (issue 9).
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Server } from "bun";
import { checkout, GitFailed } from "../../src/lib/git";
import { checkGitSource, clonePlan, type Resolver } from "../../src/lib/git-source";
import { rejectionOf } from "../support/settle";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(300_000);

const tmp = mkdtempSync(join(tmpdir(), "ancla-git-remote-"));
const gitEnv = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" };
const git = (cwd: string, ...args: string[]) => {
  const r = Bun.spawnSync(["git", ...args], { cwd, env: gitEnv });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  return r.stdout.toString().trim();
};
let server: Server<unknown>;
let commit: string;

/** `git http-backend` behind Bun.serve; /moved.git/* answers a redirect to /repo.git/*. */
async function gitHttp(req: Request): Promise<Response> {
  const url = new URL(req.url);
  if (url.pathname.startsWith("/moved.git/")) return Response.redirect(url.href.replace("/moved.git/", "/repo.git/"), 301);
  const proc = Bun.spawn(["git", "http-backend"], {
    env: {
      ...process.env,
      GIT_PROJECT_ROOT: join(tmp, "served"),
      GIT_HTTP_EXPORT_ALL: "1",
      PATH_INFO: url.pathname,
      QUERY_STRING: url.search.slice(1),
      REQUEST_METHOD: req.method,
      CONTENT_TYPE: req.headers.get("content-type") ?? "",
      REMOTE_ADDR: "127.0.0.1",
    },
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
    else headers.set(k!, v.join(":").trim());
  }
  return new Response(out.subarray(split + 4), { status, headers });
}

beforeAll(() => {
  const work = join(tmp, "work");
  mkdirSync(work);
  git(work, "init", "-q", "-b", "main");
  writeFileSync(join(work, "Dockerfile"), "FROM ancla-test/busybox\n");
  git(work, "add", ".");
  git(work, "commit", "-q", "-m", "one");
  commit = git(work, "rev-parse", "HEAD");
  mkdirSync(join(tmp, "served"));
  git(tmp, "clone", "-q", "--bare", work, join(tmp, "served", "repo.git"));
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: gitHttp });
});

afterAll(() => {
  server?.stop(true);
  rmSync(tmp, { recursive: true, force: true });
});

// a name no real resolver knows, answered by the test's own "DNS"
const NAME = "git.pinned.invalid";
const dns: Resolver = async (host) => (host === NAME ? ["127.0.0.1"] : Promise.reject(new Error("ENOTFOUND")));
const trusted = { allowLocal: false, allow: ["127.0.0.0/8"], unresolved: "refuse" as const };
let n = 0;
const dest = () => join(tmp, `clone-${n++}`);

describe("git clones follow the checked plan", () => {
  test("the clone connects to the checked address, not to a fresh DNS answer (the name resolves nowhere else)", async () => {
    const url = `http://${NAME}:${server.port}/repo.git`;
    const plan = clonePlan(await checkGitSource(url, trusted, dns));
    expect(await checkout(plan.url, "main", dest(), { config: plan.config })).toBe(commit);
    // control: without the pin git resolves the name itself and fails
    expect(await rejectionOf(checkout(url, "main", dest()))).toBeInstanceOf(GitFailed);
  });

  test("redirects are not followed (git's default would follow this one)", async () => {
    const url = `http://127.0.0.1:${server.port}/moved.git`;
    expect(await checkout(url, "main", dest())).toBe(commit); // control: plain git follows the 301
    const plan = clonePlan(await checkGitSource(url, trusted));
    expect(await rejectionOf(checkout(plan.url, "main", dest(), { config: plan.config }))).toBeInstanceOf(GitFailed);
  });

  test("only the checked transport works: an https plan cannot read a local repository", async () => {
    const plan = clonePlan(await checkGitSource("https://140.82.121.3/acme/app.git", trusted));
    const local = `file://${join(tmp, "served", "repo.git")}`;
    expect((await rejectionOf(checkout(local, "main", dest(), { config: plan.config }))).message).toMatch(/transport 'file' not allowed/);
  });
});
