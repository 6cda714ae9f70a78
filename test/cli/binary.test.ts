// The compiled single executable: built with the release flags (test/support/test-binary.ts), copied to a
// directory with nothing else in it, it serves from its data dir alone and ignores a .env there.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { copyFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { cleanEnv } from "../support/server";
import { testBinary } from "../support/test-binary";

// compiling takes a few seconds, more on a busy machine
setDefaultTimeout(300_000);

let work: string; // holds only the binary (and what the tests put there)
let bin: string;

beforeAll(() => {
  // the checkout compiled with the release flags (COMPILE_ARGS), once for all test files
  work = mkdtempSync(join(tmpdir(), "ancla-bin-"));
  bin = join(work, "ancla");
  copyFileSync(testBinary(), bin);
  Bun.spawnSync(["chmod", "0755", bin]);
});
afterAll(() => rmSync(work, { recursive: true, force: true }));

const run = (args: string[], env: Record<string, string> = {}) => {
  const r = Bun.spawnSync([bin, ...args], { cwd: work, env: cleanEnv({ HOME: work, ...env }), stdout: "pipe", stderr: "pipe" });
  return { code: r.exitCode, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
};

test("--help and version work from an empty directory", () => {
  const help = run(["--help"]);
  expect(help.code).toBe(0);
  expect(help.stdout).toContain("serve");
  expect(run(["version"]).stdout.trim()).toMatch(/^ancla \d+\.\d+\.\d+/);
});

test("serve runs with only its data dir: migrations, dashboard and API are inside the binary", async () => {
  const dataDir = join(work, "data");
  const proc = Bun.spawn([bin, "serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--router", "127.0.0.1:0"], {
    cwd: work,
    env: cleanEnv({ HOME: work }),
    stdout: "pipe",
    stderr: "pipe",
  });
  try {
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
    let text = "";
    while (!/ancla router listening/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`serve exited: ${text}`);
      text += new TextDecoder().decode(value);
    }
    const url = /ancla listening on (http:\/\/\S+)/.exec(text)![1]!;
    expect(await (await fetch(`${url}/api/v1/integrations/health`)).json()).toEqual({ status: "ok" });
    const spec = await (await fetch(`${url}/api/v1/openapi.json`)).json();
    expect(spec.openapi).toStartWith("3.1");
    expect((await fetch(`${url}/api/docs`)).status).toBe(200);
    const user = await fetch(`${url}/api/v1/organizations`);
    expect(user.status).toBe(401);
  } finally {
    proc.kill("SIGTERM");
    expect(await proc.exited).toBe(0);
  }
});

test("a .env in the working directory is not loaded into the binary", () => {
  // were it loaded, the key and the dead server below would be used: exit 7 instead of 3
  writeFileSync(join(work, ".env"), `ANCLA_SERVER=http://127.0.0.1:1\nANCLA_API_KEY=ancla_${"x".repeat(40)}\n`);
  const r = run(["whoami"]);
  expect(r.code).toBe(3);
  expect(r.stderr).toContain("not logged in");
  rmSync(join(work, ".env"));
});
