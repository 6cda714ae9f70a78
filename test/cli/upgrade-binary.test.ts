// `ancla upgrade` with the compiled binary (test/support/test-binary.ts, copied here): the installed
// file is swapped atomically and the running server reloads into it under router load without a
// failed request; a new binary that cannot serve leaves the old process serving and the previous
// binary back in place; something that is not an ancla binary changes nothing.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, copyFileSync, existsSync, mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ancla, startLiveServer, type LiveServer } from "../support/server";
import { testBinary } from "../support/test-binary";
import { serverPid } from "../../src/modules/ops/upgrade";
import { VERSION } from "../../src/lib/version";

// compiling takes ~5–25 s on a busy machine; then a few server starts
setDefaultTimeout(300_000);

const work = mkdtempSync(join(tmpdir(), "ancla-upgrade-bin-"));
const installed = join(work, "bin", "ancla");
const candidate = join(work, "new", "ancla");
const dataDir = join(work, "data");
let s: LiveServer;
let routerUrl: string;

const upgrade = (args: string[]) => ancla(["upgrade", ...args, "--data-dir", dataDir]);

beforeAll(async () => {
  mkdirSync(join(work, "bin"));
  mkdirSync(join(work, "new"));
  copyFileSync(testBinary(), installed);
  chmodSync(installed, 0o755);
  copyFileSync(installed, candidate);
  chmodSync(candidate, 0o755);
  s = await startLiveServer({ dataDir, command: [installed], createKey: false });
  routerUrl = /ancla router listening on (http:\/\/\S+)/.exec(s.output())![1]!;
});

afterAll(async () => {
  const pid = serverPid(dataDir);
  if (pid) process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100 && pid && serverPid(dataDir) === pid; i++) await Bun.sleep(100);
  await s?.stop({ keep: true });
  rmSync(work, { recursive: true, force: true });
});

test("upgrade swaps the binary (previous kept) and the server reloads into it with no failed request through the router", async () => {
  const before = serverPid(dataDir)!;
  let running = true;
  const failures: string[] = [];
  let ok = 0;
  const client = async (init: RequestInit) => {
    while (running) {
      try {
        const res = await fetch(`${routerUrl}/`, init);
        await res.text();
        if (res.status === 404) ok++; // the router's own page for an unknown host: served without Docker
        else failures.push(`status ${res.status}`);
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  };
  const load = [client({ headers: { host: "nobody.example.test" } }), client({ keepalive: false, headers: { host: "nobody.example.test", connection: "close" } })];
  const r = await upgrade([candidate]);
  await Bun.sleep(200);
  running = false;
  await Promise.all(load);
  expect(r.stderr).toBe("");
  expect(r.code).toBe(0);
  const after = serverPid(dataDir)!;
  expect(r.stdout).toContain(`the server moved from pid ${before} to ${after} without dropping requests`);
  expect(after).not.toBe(before);
  expect(readlinkSync(`/proc/${after}/exe`)).toBe(installed); // the new process runs the file now on disk
  expect(existsSync(`${installed}.previous`)).toBe(true);
  expect(failures).toEqual([]);
  expect(ok).toBeGreaterThan(20);
  expect((await fetch(`${s.url}/api/v1/integrations/health`)).status).toBe(200);
});

test("a new binary that cannot serve: exit 1 with the reason, the server keeps serving, the previous binary is back", async () => {
  const pid = serverPid(dataDir)!;
  const good = readFileSync(installed);
  const broken = join(work, "new", "broken");
  // passes the version check, then fails to start (a build for the wrong machine, a bad release)
  writeFileSync(broken, `#!/bin/sh\nif [ "$1" = version ]; then echo "ancla 9.9.9"; exit 0; fi\necho "cannot start" >&2\nexit 1\n`, { mode: 0o755 });
  const r = await upgrade([broken]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain("the new binary did not take over: the new process exited with code 1 before it was ready");
  expect(r.stderr).toContain(`The server (pid ${pid}) keeps serving ancla ${VERSION}; ${installed} is the previous binary again`);
  expect(serverPid(dataDir)).toBe(pid);
  expect(readFileSync(installed).equals(good)).toBe(true);
  expect(readFileSync(`${installed}.failed`, "utf8")).toContain("cannot start");
  expect((await fetch(`${s.url}/api/v1/integrations/health`)).status).toBe(200);
});

test("not an ancla binary: exit 2, nothing changed", async () => {
  const pid = serverPid(dataDir)!;
  const junk = join(work, "new", "junk.txt");
  writeFileSync(junk, "not a program", { mode: 0o644 });
  const before = readFileSync(installed);
  const r = await upgrade([junk]);
  expect(r.code).toBe(2);
  expect(r.stderr).toContain(`${junk} is not a working ancla binary`);
  expect(r.stderr).toContain("nothing was changed");
  expect(readFileSync(installed).equals(before)).toBe(true);
  expect(serverPid(dataDir)).toBe(pid);
});
