// `ancla metrics` against a live `ancla serve --sample-interval 1` and the real Docker engine: the
// fixture app deployed with a worker that spins (CPU capped by its pod class) next to an idle web
// replica; the command prints each replica's current usage and sparklines, `--json` the series,
// and bad input is a usage error.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ancla, startLiveServer, type LiveServer } from "../support/server";
import { ensureBaseImage, removeOrgResources, RUN_ID, RUN_LABELS_ENV } from "../support/docker";

setDefaultTimeout(300_000);

let s: LiveServer;
let dir: string;
const ORG = `met${RUN_ID}`.toLowerCase();
const TARGET = `${ORG}/web/production/app`;
const FIXTURE = resolve(import.meta.dir, "../fixtures/webapp");

const cli = (args: string[]) => ancla(args, { home: s.home, cwd: dir, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey } });
const api = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(s.url + path, { method, headers: { "x-api-key": s.adminKey, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  expect(r.status).toBeLessThan(300);
  return r.json() as Promise<any>;
};

beforeAll(async () => {
  await ensureBaseImage();
  s = await startLiveServer({ args: ["--sample-interval", "1"], env: RUN_LABELS_ENV });
  await api("POST", "/api/v1/organizations", { name: ORG, slug: ORG });
  await api("POST", `/api/v1/orgs/${ORG}/projects`, { name: "Web", slug: "web" });
  await api("POST", `/api/v1/orgs/${ORG}/projects/web/envs/production/services`, { name: "app", process_counts: { web: 1, worker: 1 }, deployment_timeout: 60 });
  dir = mkdtempSync(join(tmpdir(), "ancla-metrics-fixture-"));
  cpSync(FIXTURE, dir, { recursive: true, filter: (src) => !src.endsWith("support.ts") });
  writeFileSync(join(dir, "Procfile"), `web: exec httpd -f -p "$PORT" -h /www\nworker: exec sh -c 'while :; do :; done'\n`);
  const deployed = await cli(["deploy", "--target", TARGET]);
  if (deployed.code !== 0) throw new Error(`deploy failed: ${deployed.stderr}`);
});
afterAll(async () => {
  await s?.stop();
  await removeOrgResources(ORG);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("ancla metrics", () => {
  test("--json: the series and every replica's current usage, the spinning worker busy and the web replica idle", async () => {
    let m: any;
    // the sampler needs two ticks for a CPU rate
    for (let i = 0; i < 60; i++) {
      const r = await cli(["metrics", TARGET, "--json"]);
      expect(r.code).toBe(0);
      m = r.json();
      if (m.replicas.length === 2 && m.replicas.every((x: any) => x.cpu_usage_m !== null)) break;
      await Bun.sleep(500);
    }
    expect(m).toMatchObject({ range: "1h", step: 30, sample_interval: 1 });
    expect(m.history).toHaveLength(120);
    const [web, worker] = m.replicas;
    expect(web).toMatchObject({ process: "web", replica: 1, state: "running", running: true, restart_count: 0 });
    expect(worker).toMatchObject({ process: "worker", replica: 1, state: "running", running: true });
    expect(worker.cpu_usage_m).toBeGreaterThan(100); // a spinner under a shared 2-core host
    expect(web.cpu_usage_m).toBeLessThan(worker.cpu_usage_m);
    expect(web.memory_usage_bytes).toBeGreaterThan(0);
    const newest = m.history.filter((p: any) => p.pod_count !== null).at(-1);
    expect(newest.pod_count).toBe(2);
    expect(newest.cpu_usage_m).toBeGreaterThan(0);
  });

  test("text: a header, CPU/memory/replica sparklines with the newest and highest value, and one row per replica", async () => {
    const r = await cli(["metrics", TARGET, "--range", "6h"]);
    expect(r.code).toBe(0);
    const lines = r.stdout.split("\n");
    expect(lines[0]).toBe(`${TARGET}: last 6h, 180 s per point, sampled every 1 s`);
    expect(lines[1]).toMatch(/^CPU\s+\|[ ▁▂▃▄▅▆▇█]{60}\| now \d+ m, max \d+ m$/);
    expect(lines[2]).toMatch(/^memory\s+\|[ ▁▂▃▄▅▆▇█]{60}\| now [\d.]+ (B|KiB|MiB), max [\d.]+ (B|KiB|MiB)$/);
    expect(lines[3]).toMatch(/^replicas\s+\|[ ▁▂▃▄▅▆▇█]{60}\| now 2, max 2$/);
    const table = lines.slice(lines.indexOf("") + 1);
    expect(table[0]!.split(/\s{2,}/)).toEqual(["REPLICA", "STATE", "CPU", "MEMORY", "RESTARTS", "CONTAINER", "SAMPLED"]);
    expect(table[1]).toMatch(/^web\.1\s+running\s+\d+ m\s+[\d.]+ (B|KiB|MiB)\s+0\s+[0-9a-f]{12}\s+20\d\d-/);
    expect(table[2]).toMatch(/^worker\.1\s+running\s+\d+ m\s+/);
  });

  test("a service with nothing running says so; a bad range or flag is a usage error (exit 2); an unknown service exit 4", async () => {
    await api("POST", `/api/v1/orgs/${ORG}/projects/web/envs/production/services`, { name: "idle" });
    const idle = await cli(["metrics", `${ORG}/web/production/idle`, "--range", "30d"]);
    expect(idle.code).toBe(0);
    expect(idle.stdout).toContain("no samples in the last 30d (nothing running, or the sampler has not ticked yet)");
    expect(idle.stdout).toContain("no replicas seen by the last sampler tick");
    const bad = await cli(["metrics", TARGET, "--range", "2h"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("--range must be one of 1h, 6h, 24h, 7d, 30d");
    expect((await cli(["metrics", TARGET, "--since", "1h"])).code).toBe(2);
    expect((await cli(["metrics", `${ORG}/web/production/nope`])).code).toBe(4);
  });
});
