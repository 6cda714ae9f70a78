// What an `ancla` process evaluates: `--version`, help and client commands never load the server
// (src/server.ts, the app, the database deps); `serve` does, and none of the client command
// files (src/cli/commands/orgs.ts stands for them); `serve` evaluates a module's routes only when a
// request falls in them (src/modules/orgs/index.ts stands for them; src/app.ts, every route at
// once, only for the OpenAPI document); zod, Elysia and yaml only after it listens. Recorded by a Bun runtime plugin
// preloaded into a real `bun src/main.ts …` process, which reports every such file it loads.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import pkg from "../../package.json" with { type: "json" };

setDefaultTimeout(300_000);

const ROOT = resolve(import.meta.dir, "../..");
let dir: string;
let preload: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "ancla-lazy-"));
  preload = join(dir, "trace.ts");
  writeFileSync(
    preload,
    `import { plugin } from "bun";
import { readFileSync } from "node:fs";
plugin({
  name: "trace-loads",
  setup(build) {
    build.onLoad({ filter: /[\\\\/]src[\\\\/](server|app|route-groups|deps|cli[\\\\/]commands[\\\\/]orgs|modules[\\\\/]orgs[\\\\/]index)\\.ts$/ }, (args) => {
      process.stderr.write("LOADED " + args.path.slice(args.path.lastIndexOf("src")) + "\\n");
      return { contents: readFileSync(args.path, "utf8"), loader: "ts" };
    });
    // the libraries serve must not evaluate before it listens: each package's first file
    const seen = new Set();
    build.onLoad({ filter: /[\\/]node_modules[\\/](zod|elysia|yaml|drizzle-orm)[\\/].*\\.(c|m)?js$/ }, (args) => {
      const pkg = /[\\/]node_modules[\\/](zod|elysia|yaml|drizzle-orm)[\\/]/.exec(args.path)[1];
      if (!seen.has(pkg)) process.stderr.write("LOADED pkg:" + pkg + "\\n");
      seen.add(pkg);
      return { contents: readFileSync(args.path, "utf8"), loader: "js" };
    });
  },
});
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** `bun src/main.ts serve` with the trace preloaded on `data` (under the temp dir), its stdout and stderr in one log so the trace's lines and the server's stay in order. */
function traceServe(data: string, logName: string) {
  const log = join(dir, logName);
  const fd = openSync(log, "w");
  const proc = Bun.spawn([process.execPath, "--preload", preload, join(ROOT, "src/main.ts"), "serve", "--data-dir", join(dir, data), "--listen", "127.0.0.1:0", "--router", "127.0.0.1:0", "--ssh", "off"], {
    cwd: dir,
    env: { ...process.env, HOME: dir },
    stdout: fd,
    stderr: fd,
    stdin: "ignore",
  });
  closeSync(fd);
  const waitFor = async (has: (t: string) => boolean) => {
    const deadline = Date.now() + 120_000;
    while (!has(readFileSync(log, "utf8")) && Date.now() < deadline && proc.exitCode === null) await Bun.sleep(50);
    return readFileSync(log, "utf8");
  };
  return { proc, log, waitFor };
}

async function run(args: string[], until?: (stderr: string) => boolean): Promise<{ code: number | null; stdout: string; loaded: string[] }> {
  const proc = Bun.spawn([process.execPath, "--preload", preload, join(ROOT, "src/main.ts"), ...args], {
    cwd: dir,
    env: { ...process.env, HOME: dir, ANCLA_SERVER: "http://127.0.0.1:9", ANCLA_API_KEY: "" },
    stdout: "pipe",
    stderr: "pipe",
    stdin: "ignore",
  });
  let stderr = "";
  if (until) {
    // a server: read its stderr until the pattern shows, then stop it
    const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    while (!until(stderr)) {
      const { value, done } = await reader.read();
      if (done) break;
      stderr += decoder.decode(value, { stream: true });
    }
    proc.kill("SIGTERM");
    reader.releaseLock();
  } else stderr = await new Response(proc.stderr).text();
  const stdout = await new Response(proc.stdout).text();
  await proc.exited;
  return { code: proc.exitCode, stdout, loaded: [...stderr.matchAll(/^LOADED (?!pkg:)(\S+)$/gm)].map((m) => m[1]!) }; // source files; libraries are checked where serve listens
}

describe("start-up: what a command loads", () => {
  test("the trace sees serve load the server, the app and the deps (the check below can fail)", async () => {
    const all = ["src/server.ts", "src/route-groups.ts", "src/deps.ts"];
    const r = await run(["serve", "--data-dir", join(dir, "data"), "--listen", "127.0.0.1:0", "--router", "127.0.0.1:0", "--ssh", "off"], (stderr) => all.every((f) => stderr.includes(`LOADED ${f}`)));
    expect(r.loaded).toEqual(expect.arrayContaining(all));
    expect(r.loaded).not.toContain("src/cli/commands/orgs.ts");
  });

  test("serve listens before it makes the app, and evaluates a module's routes on the first request that falls in them (src/route-groups.ts)", async () => {
    const { proc, log, waitFor } = traceServe("data-order", "serve-order.log");
    let started = "";
    let after = "";
    const status: number[] = [];
    try {
      // fully started: the router listens once everything serve imports after listen is evaluated
      started = await waitFor((t) => t.includes("LOADED src/route-groups.ts") && t.includes("ancla router listening"));
      const api = /ancla listening on (http:\/\/\S+)/.exec(started)?.[1];
      expect(api).toBeDefined();
      status.push((await fetch(`${api}/api/v1/auth/session`)).status);
      const before = readFileSync(log, "utf8");
      status.push((await fetch(`${api}/api/v1/orgs`)).status);
      after = await waitFor((t) => t.includes("LOADED src/modules/orgs/index.ts"));
      expect(before).not.toContain("LOADED src/modules/orgs/index.ts"); // not for another group's request
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
    const at = (s: string) => after.indexOf(s);
    expect(status).toEqual([200, 401]);
    expect(at("ancla listening")).toBeGreaterThan(at("LOADED src/deps.ts"));
    expect(at("LOADED src/route-groups.ts")).toBeGreaterThan(at("ancla listening"));
    // zod (the config is read without it), Elysia (the front has its own WebSocket handler) and
    // yaml (kubeconfigs only) come after listen, if at all (src/config.ts, src/front.ts)
    for (const pkg of ["zod", "elysia"]) expect(at(`LOADED pkg:${pkg}`)).toBeGreaterThan(at("ancla listening"));
    expect(at("LOADED pkg:yaml") < 0 || at("LOADED pkg:yaml") > at("ancla listening")).toBe(true);
    expect(started).not.toContain("LOADED src/modules/orgs/index.ts");
    expect(at("LOADED src/modules/orgs/index.ts")).toBeGreaterThan(at("ancla router listening"));
    expect(after).not.toContain("LOADED src/app.ts"); // every route at once: only for the OpenAPI document
  });

  test("a first start and a restart open, check and migrate the database and read the log redaction set without drizzle (db/sqlite.ts, db/migrate.ts); it is loaded after listen", async () => {
    const start = async (name: string) => {
      const { proc, log, waitFor } = traceServe("data-drizzle", name);
      try {
        const api = /ancla listening on (http:\/\/\S+)/.exec(await waitFor((t) => t.includes("ancla router listening")))?.[1];
        // an app route reads through drizzle: the first request loads it
        expect((await fetch(`${api}/api/v1/auth/session`)).status).toBe(200);
      } finally {
        proc.kill("SIGTERM");
        await proc.exited;
      }
      const text = readFileSync(log, "utf8");
      return { listening: text.indexOf("ancla listening"), drizzle: text.indexOf("LOADED pkg:drizzle-orm") };
    };
    const first = await start("serve-first.log");
    expect(first.listening).toBeGreaterThan(0);
    expect(first.drizzle).toBeGreaterThan(first.listening);
    const restart = await start("serve-restart.log");
    expect(restart.listening).toBeGreaterThan(0);
    expect(restart.drizzle).toBeGreaterThan(restart.listening);
  });

  test("ancla --version, -v and version print the version without loading the server", async () => {
    for (const args of [["--version"], ["-v"], ["version"]]) {
      const r = await run(args);
      expect(r).toEqual({ code: 0, stdout: `ancla ${pkg.version}\n`, loaded: [] });
    }
  });

  test("help, serve --help and a client command do not load the server either", async () => {
    const help = await run([]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("orgs list");
    expect(help.loaded).toEqual(["src/cli/commands/orgs.ts"]); // help lists every command
    const serveHelp = await run(["serve", "--help"]);
    expect(serveHelp.stdout).toContain("--data-dir");
    expect(serveHelp.loaded).toEqual([]);
    const client = await run(["orgs", "list"]); // nothing listens on port 9: a network error, after the command ran
    expect(client.code).not.toBe(0);
    expect(client.loaded).toEqual(["src/cli/commands/orgs.ts"]);
  });
});
