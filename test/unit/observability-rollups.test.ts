// Sampler storage with an injected clock and a scripted usage reader: raw rows per replica and
// tick, 5-minute rollups when a bucket closes, deletion by age (24 h raw, 30 days rollups), and
// the route series (≤ 120 points, per-tick service totals) from raw and from rollups.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { testApp, type TestApp } from "../support/app";
import { usageFixture } from "../support/usage-fixture";
import { referenceProblems } from "../support/reference-schema";
import { startSampler, type Sampler } from "../../src/modules/observability/sampler";
import type { UsageReader } from "../../src/targets/docker/usage";

setDefaultTimeout(120_000);

const T0 = Date.UTC(2026, 0, 1, 0, 0, 0);
let nowMs = T0;
let t: TestApp;
let key: string;
let sampler: Sampler;
const MiB = 1024 * 1024;

// container a: 250 millicores, 100 MiB; container b: 750 millicores, 50 MiB (cumulative CPU from the fake clock)
const profile: Record<string, { milli: number; mem: number }> = { a: { milli: 250, mem: 100 * MiB }, b: { milli: 750, mem: 50 * MiB } };
const reader: UsageReader = {
  async read(targets) {
    const out = new Map();
    for (const { id } of targets) {
      const p = profile[id];
      if (p) out.set(id, { cpuUsec: Math.round(((nowMs - T0) / 1000) * p.milli * 1000), memoryBytes: p.mem, rxBytes: 0, txBytes: 0, source: "cgroup2", atMs: nowMs });
    }
    return out;
  },
  retain() {},
};

const count = (table: string) => (t.deps.sqlite.query(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
/** n ticks of 15 s, the fake clock advancing before each. */
async function ticks(n: number) {
  for (let i = 0; i < n; i++) {
    nowMs += 15_000;
    await sampler.sampleOnce();
  }
}

beforeAll(async () => {
  t = await testApp();
  (t.deps as { clock: { now: () => Date } }).clock = { now: () => new Date(nowMs) };
  key = (await t.user("owner")).key;
  await usageFixture(t, key, [
    { id: "a", process: "web", replica: 1 },
    { id: "b", process: "web", replica: 2 },
  ]);
  sampler = startSampler(t.deps, { reader, intervalMs: 0 });
});
afterAll(async () => {
  await sampler?.stop();
  t?.close();
});

describe("usage storage", () => {
  test("one integer row per replica per tick; the first tick has no CPU rate yet", async () => {
    await ticks(1);
    const rows = t.deps.sqlite.query("SELECT cpu, mem, running FROM usage_samples ORDER BY series_id").all();
    expect(rows).toEqual([{ cpu: null, mem: 100 * MiB, running: 1 }, { cpu: null, mem: 50 * MiB, running: 1 }]);
    await ticks(1);
    expect(t.deps.sqlite.query("SELECT cpu FROM usage_samples WHERE cpu IS NOT NULL ORDER BY series_id").all()).toEqual([{ cpu: 250 }, { cpu: 750 }]);
  });

  test("the 1h series: ≤ 120 points, service totals per tick, matches the reference contract", async () => {
    await ticks(20); // 5.5 minutes: a rollup bucket has closed
    const r = await t.req("GET", "/api/v1/orgs/acme/projects/web/observability/?service=api&range=1h", undefined, { key });
    expect(r.status).toBe(200);
    expect(referenceProblems("ObservabilityResponse", r.body)).toEqual([]);
    expect(r.body.history.length).toBeLessThanOrEqual(120);
    const filled = r.body.history.filter((p: any) => p.pod_count !== null);
    expect(filled.length).toBeGreaterThan(5);
    const last = filled.at(-1);
    expect(last).toMatchObject({ cpu_usage_m: 1000, memory_usage_bytes: 150 * MiB, pod_count: 2, restart_count: 0 });
    expect(r.body.replicas.map((x: any) => [x.replica, x.cpu_usage_m, x.memory_usage_bytes, x.state])).toEqual([
      [1, 250, 100 * MiB, "running"],
      [2, 750, 50 * MiB, "running"],
    ]);
  });

  test("5-minute rollups hold avg and max per replica", () => {
    const rows = t.deps.sqlite.query("SELECT n, running, cpu_avg, cpu_max, mem_max FROM usage_rollups ORDER BY ts, series_id").all() as any[];
    expect(rows.length).toBeGreaterThanOrEqual(2);
    // ticks at 15 s … 285 s fall in the first bucket [0, 300): 19 samples per replica
    expect(rows[0]).toEqual({ n: 19, running: 19, cpu_avg: 250, cpu_max: 250, mem_max: 100 * MiB });
    expect(rows[1]).toEqual({ n: 19, running: 19, cpu_avg: 750, cpu_max: 750, mem_max: 50 * MiB });
  });

  test("the 7d series reads the rollups; raw samples go after 24 h, rollups after 30 days", async () => {
    nowMs += 25 * 3600_000;
    await ticks(1); // crossing a bucket boundary runs the rollup and the deletion by age
    expect(count("usage_samples")).toBe(2); // only this tick's rows
    const rollups = count("usage_rollups");
    expect(rollups).toBeGreaterThanOrEqual(4);
    const week = await t.req("GET", "/api/v1/orgs/acme/projects/web/observability?service=api&range=7d", undefined, { key });
    expect(week.body.step).toBe(5040);
    const points = week.body.history.filter((p: any) => p.pod_count !== null);
    expect(points.length).toBeGreaterThanOrEqual(1);
    expect(points[0]).toMatchObject({ pod_count: 2 });
    expect(points[0].cpu_usage_m).toBeGreaterThan(900);
    expect(points[0].cpu_usage_m).toBeLessThan(1001);
    nowMs += 31 * 86400_000;
    profile.a = profile.b = undefined as never; // the replicas are gone now: rows say not running
    await ticks(1);
    expect(t.deps.sqlite.query("SELECT count(*) AS n FROM usage_rollups WHERE ts < ?").get(Math.floor(nowMs / 1000) - 30 * 86400)).toEqual({ n: 0 });
    expect(t.deps.sqlite.query("SELECT running, cpu, mem FROM usage_samples").all()).toEqual([{ running: 0, cpu: null, mem: null }, { running: 0, cpu: null, mem: null }]);
  });

  test("a deleted service takes its series, samples and rollups with it", async () => {
    const r = await t.req("DELETE", "/api/v1/orgs/acme/projects/web/envs/production/services/api", undefined, { key });
    expect(r.status).toBeLessThan(300);
    expect([count("usage_series"), count("usage_samples"), count("usage_rollups")]).toEqual([0, 0, 0]);
  });
});
