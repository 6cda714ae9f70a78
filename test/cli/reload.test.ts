// SIGHUP reload of a live `ancla serve` (a real child process, run from a wrapper script so the
// test can break "the binary on disk"): a new process takes over the same ports and the data dir;
// a new binary that exits or never becomes ready is abandoned and the old process keeps serving,
// still owning its data dir and ports.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ancla, startLiveServer, type LiveServer } from "../support/server";
import { reloadAndWait, serverPid } from "../../src/modules/ops/upgrade";

// each reload starts a server process from source (~1–3 s here, more on a busy machine)
setDefaultTimeout(300_000);

const MAIN = resolve(import.meta.dir, "../../src/main.ts");
const dir = mkdtempSync(join(tmpdir(), "ancla-reload-"));
const entry = join(dir, "ancla-entry.ts");
const dataDir = join(dir, "data");
const WORKING = `import ${JSON.stringify(MAIN)};\n`;
let s: LiveServer;
let routerUrl: string;

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};
const health = async (url: string) => {
  const res = await fetch(`${url}/api/v1/integrations/health`);
  return { status: res.status, id: res.headers.get("x-request-id") };
};

beforeAll(async () => {
  writeFileSync(entry, WORKING);
  s = await startLiveServer({ dataDir, command: [process.execPath, entry], args: ["--reload-timeout", "30"] }); // 30 s: a loaded machine (parallel test files) starts a server slowly
  routerUrl = /ancla router listening on (http:\/\/\S+)/.exec(s.output())![1]!;
});

afterAll(async () => {
  const pid = serverPid(dataDir);
  if (pid) process.kill(pid, "SIGTERM");
  for (let i = 0; i < 100 && pid && alive(pid); i++) await Bun.sleep(100);
  await s.stop();
  rmSync(dir, { recursive: true, force: true });
});

test("SIGHUP: a new process serves the same API and router ports and owns the data dir; the old one exits 0", async () => {
  const before = serverPid(dataDir)!;
  expect(before).toBe(s.proc.pid);
  const status = await reloadAndWait(dataDir, before, 60_000);
  expect(status).toMatchObject({ state: "complete", from: before });
  const after = status.to!;
  expect(after).not.toBe(before);
  expect(await s.proc.exited).toBe(0);
  expect(serverPid(dataDir)).toBe(after);
  expect(s.output()).not.toContain("cannot steer connections"); // bun:ffi reached libc: zero-drop handover
  expect((await health(s.url)).status).toBe(200);
  expect((await fetch(routerUrl, { headers: { host: "nobody.example.test" } })).status).toBe(404);
  // the admin key still works, and the status route names the process that serves now
  const st = await fetch(`${s.url}/api/v1/status`, { headers: { "x-api-key": s.adminKey } });
  expect(((await st.json()) as { pid: number }).pid).toBe(after);
  // the handover did not open the ports to anyone else: a second server still fails on them
  const second = await ancla(["serve", "--data-dir", join(dir, "other"), "--listen", new URL(s.url).host, "--router", "127.0.0.1:0"]);
  expect(second.code).toBe(5);
  expect(second.stderr).toContain("is already in use");
});

test("a new binary that exits at start: the reload fails with the reason, the old process keeps serving and its data dir", async () => {
  const pid = serverPid(dataDir)!;
  writeFileSync(entry, `console.error("broken build"); process.exit(3);\n`);
  const status = await reloadAndWait(dataDir, pid, 60_000);
  writeFileSync(entry, WORKING);
  expect(status.state).toBe("failed");
  expect(status.message).toBe("the new process exited with code 3 before it was ready");
  expect(serverPid(dataDir)).toBe(pid);
  expect(alive(pid)).toBe(true);
  expect((await health(s.url)).status).toBe(200);
  expect(s.output()).toContain("reload failed: the new process exited with code 3 before it was ready; still serving from this process");
  const second = await ancla(["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--router", "127.0.0.1:0"]);
  expect(second.code).toBe(5);
  expect(second.stderr).toContain(`in use by pid ${pid}`);
});

test("a new process that took the data dir and ports but never reports ready: killed, the old one takes its data dir back", async () => {
  const pid = serverPid(dataDir)!;
  // the real server, except that its "ready" never reaches the parent
  writeFileSync(entry, `const send = process.send!.bind(process);\nprocess.send = ((m: { t?: string }, ...rest: unknown[]) => (m?.t === "ready" ? true : (send as any)(m, ...rest))) as typeof process.send;\nawait import(${JSON.stringify(MAIN)});\n`);
  const probes: number[] = [];
  let probing = true;
  const prober = (async () => {
    while (probing) {
      probes.push((await health(s.url).catch(() => ({ status: 0 }))).status);
      await Bun.sleep(50);
    }
  })();
  const status = await reloadAndWait(dataDir, pid, 60_000);
  probing = false;
  await prober;
  writeFileSync(entry, WORKING);
  expect(status).toMatchObject({ state: "failed", message: "the new process was not ready within 30 s" });
  expect(s.output()).toMatch(/reload: new process started; handing over the data dir/);
  expect(serverPid(dataDir)).toBe(pid); // taken back: serve.pid is the old process's again
  expect(probes.length).toBeGreaterThan(20);
  expect(probes.filter((p) => p !== 200)).toEqual([]); // the API answered throughout
  const second = await ancla(["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--router", "127.0.0.1:0"]);
  expect(second.code).toBe(5);
  expect(second.stderr).toContain(`in use by pid ${pid}`);
});

test("a new binary that never becomes ready: killed after --reload-timeout, the old process keeps serving", async () => {
  const pid = serverPid(dataDir)!;
  writeFileSync(entry, `await new Promise(() => {});\n`);
  const status = await reloadAndWait(dataDir, pid, 60_000);
  writeFileSync(entry, WORKING);
  expect(status).toMatchObject({ state: "failed", message: "the new process was not ready within 30 s" });
  expect(serverPid(dataDir)).toBe(pid);
  expect((await health(s.url)).status).toBe(200);
  // and the next reload, with a working binary again, goes through
  const ok = await reloadAndWait(dataDir, pid, 60_000);
  expect(ok.state).toBe("complete");
  expect(serverPid(dataDir)).toBe(ok.to!);
  expect((await health(s.url)).status).toBe(200);
  expect(readFileSync(join(dataDir, "reload.json"), "utf8")).toContain('"state":"complete"');
});
