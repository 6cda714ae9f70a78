// What an `ancla` process evaluates: `--version`, help and client commands never load the server
// (src/server.ts, the app, the database deps); `serve` does, and none of the client command
// files (src/cli/commands/orgs.ts stands for them). Recorded by a Bun runtime plugin
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
    build.onLoad({ filter: /[\\\\/]src[\\\\/](server|app|deps|cli[\\\\/]commands[\\\\/]orgs)\\.ts$/ }, (args) => {
      process.stderr.write("LOADED " + args.path.slice(args.path.lastIndexOf("src")) + "\\n");
      return { contents: readFileSync(args.path, "utf8"), loader: "ts" };
    });
  },
});
`,
  );
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

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
  return { code: proc.exitCode, stdout, loaded: [...stderr.matchAll(/^LOADED (\S+)$/gm)].map((m) => m[1]!) };
}

describe("start-up: what a command loads", () => {
  test("the trace sees serve load the server, the app and the deps (the check below can fail)", async () => {
    const all = ["src/server.ts", "src/app.ts", "src/deps.ts"];
    const r = await run(["serve", "--data-dir", join(dir, "data"), "--listen", "127.0.0.1:0", "--router", "127.0.0.1:0", "--ssh", "off"], (stderr) => all.every((f) => stderr.includes(`LOADED ${f}`)));
    expect(r.loaded).toEqual(expect.arrayContaining(all));
    expect(r.loaded).not.toContain("src/cli/commands/orgs.ts");
  });

  test("serve listens before it evaluates the app: app.ts is loaded after 'ancla listening' (src/server.ts)", async () => {
    // stdout and stderr into one file, so the trace's lines and the server's stay in order
    const log = join(dir, "serve-order.log");
    const fd = openSync(log, "w");
    const proc = Bun.spawn([process.execPath, "--preload", preload, join(ROOT, "src/main.ts"), "serve", "--data-dir", join(dir, "data-order"), "--listen", "127.0.0.1:0", "--router", "127.0.0.1:0", "--ssh", "off"], {
      cwd: dir,
      env: { ...process.env, HOME: dir },
      stdout: fd,
      stderr: fd,
      stdin: "ignore",
    });
    closeSync(fd);
    try {
      const deadline = Date.now() + 120_000;
      const both = (t: string) => t.includes("LOADED src/app.ts") && t.includes("ancla listening");
      while (!both(readFileSync(log, "utf8")) && Date.now() < deadline && proc.exitCode === null) await Bun.sleep(50);
    } finally {
      proc.kill("SIGTERM");
      await proc.exited;
    }
    const text = readFileSync(log, "utf8");
    const at = (s: string) => text.indexOf(s);
    expect(at("LOADED src/app.ts")).toBeGreaterThan(-1);
    expect(at("ancla listening")).toBeGreaterThan(at("LOADED src/deps.ts"));
    expect(at("LOADED src/app.ts")).toBeGreaterThan(at("ancla listening"));
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
