// The durable job queue with real SQLite and test handlers (no Docker): order, per-service
// exclusion, failures, restart recovery and the build-concurrency bound.
import { afterEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { testApp, type TestApp } from "../support/app";
import { enqueueJob, getJob, INTERRUPTED, markJob, registerJobHandler, waitForJob } from "../../src/jobs/queue";
import { startWorker, type Worker } from "../../src/jobs/worker";
import { withBuildSlot } from "../../src/jobs/build-slots";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(300_000);

let t: TestApp;
let worker: Worker | undefined;
const events: string[] = [];
const interrupted: string[] = [];

registerJobHandler("test-step", {
  run: async ({ job, signal }) => {
    const p = job.payload as { name: string; ms?: number; fail?: boolean };
    events.push(`start ${p.name}`);
    await Bun.sleep(p.ms ?? 30);
    if (signal.aborted) throw new Error("aborted");
    events.push(`end ${p.name}`);
    if (p.fail) throw new Error(`step ${p.name} failed on purpose`);
    return { done: p.name };
  },
  onInterrupted: async (_deps, job) => {
    interrupted.push((job.payload as { name: string }).name);
  },
});
registerJobHandler("test-other", {
  run: async ({ job }) => {
    events.push(`start ${(job.payload as { name: string }).name}`);
    await Bun.sleep(10);
    events.push(`end ${(job.payload as { name: string }).name}`);
  },
});
registerJobHandler("test-build", {
  run: async ({ deps, job, signal }) =>
    withBuildSlot(deps, async () => {
      events.push(`start ${(job.payload as { name: string }).name}`);
      await Bun.sleep(80);
      events.push(`end ${(job.payload as { name: string }).name}`);
    }, signal),
});

async function services(app: TestApp, n: number): Promise<string[]> {
  const key = (await app.user("q")).key;
  await app.req("POST", "/api/v1/organizations", { name: "Q", slug: "q" }, { key });
  await app.req("POST", "/api/v1/orgs/q/projects", { name: "P", slug: "p" }, { key });
  const ids: string[] = [];
  for (let i = 0; i < n; i++) {
    const r = await app.req("POST", "/api/v1/orgs/q/projects/p/envs/production/services", { name: `s${i}` }, { key });
    expect(r.status).toBe(201);
    ids.push(r.body.id);
  }
  return ids;
}

afterEach(async () => {
  await worker?.stop();
  worker = undefined;
  t?.close();
  events.length = 0;
  interrupted.length = 0;
});

describe("job queue", () => {
  test("one job per service at a time, in order across kinds; other services run alongside", async () => {
    t = await testApp();
    const [a, b] = await services(t, 2);
    const a1 = enqueueJob(t.deps, { serviceId: a!, kind: "test-step", payload: { name: "a1", ms: 120 } });
    const a2 = enqueueJob(t.deps, { serviceId: a!, kind: "test-other", payload: { name: "a2" } });
    const a3 = enqueueJob(t.deps, { serviceId: a!, kind: "test-step", payload: { name: "a3" } });
    const b1 = enqueueJob(t.deps, { serviceId: b!, kind: "test-step", payload: { name: "b1", ms: 20 } });
    worker = await startWorker(t.deps);
    for (const j of [a1, a2, a3, b1]) expect((await waitForJob(t.deps, j.id, 5000)).status).toBe("complete");
    const ofA = events.filter((e) => e.includes(" a"));
    expect(ofA).toEqual(["start a1", "end a1", "start a2", "end a2", "start a3", "end a3"]);
    // b1 ran while a1 was still running
    expect(events.indexOf("end b1")).toBeLessThan(events.indexOf("end a1"));
    expect(getJob(t.deps, a1.id)!.result).toEqual({ done: "a1" });
  });

  test("a failing handler finishes its job as error with the message; the next job still runs", async () => {
    t = await testApp();
    const [a] = await services(t, 1);
    const bad = enqueueJob(t.deps, { serviceId: a!, kind: "test-step", payload: { name: "bad", fail: true } });
    const next = enqueueJob(t.deps, { serviceId: a!, kind: "test-step", payload: { name: "next" } });
    const unknown = enqueueJob(t.deps, { serviceId: a!, kind: "no-such-kind" });
    worker = await startWorker(t.deps);
    expect(await waitForJob(t.deps, bad.id)).toMatchObject({ status: "error", error: "step bad failed on purpose" });
    expect((await waitForJob(t.deps, next.id)).status).toBe("complete");
    expect(await waitForJob(t.deps, unknown.id)).toMatchObject({ status: "error", error: "no handler for job kind 'no-such-kind'" });
  });

  test("on start, jobs left running are finished as interrupted (cleanup hook runs) and queued ones run", async () => {
    t = await testApp();
    const [a] = await services(t, 1);
    const stale = enqueueJob(t.deps, { serviceId: a!, kind: "test-step", payload: { name: "stale" } });
    markJob(t.deps, stale.id, { status: "running", startedAt: new Date().toISOString() });
    const waiting = enqueueJob(t.deps, { serviceId: a!, kind: "test-step", payload: { name: "waiting" } });
    worker = await startWorker(t.deps);
    expect(getJob(t.deps, stale.id)).toMatchObject({ status: "error", error: INTERRUPTED });
    expect(interrupted).toEqual(["stale"]);
    expect((await waitForJob(t.deps, waiting.id)).status).toBe("complete");
    expect(events).toEqual(["start waiting", "end waiting"]);
  });

  test("stopping mid-job leaves it running for the next start, which finishes it as interrupted", async () => {
    t = await testApp();
    const [a] = await services(t, 1);
    const long = enqueueJob(t.deps, { serviceId: a!, kind: "test-step", payload: { name: "long", ms: 400 } });
    worker = await startWorker(t.deps);
    while (!events.includes("start long")) await Bun.sleep(5);
    await worker.stop();
    expect(getJob(t.deps, long.id)!.status).toBe("running");
    worker = await startWorker(t.deps);
    expect(getJob(t.deps, long.id)).toMatchObject({ status: "error", error: INTERRUPTED });
    expect(interrupted).toEqual(["long"]);
  });

  for (const concurrency of [1, 2]) {
    test(`at most buildConcurrency=${concurrency} builds at once across services`, async () => {
      t = await testApp({ buildConcurrency: concurrency });
      const ids = await services(t, 3);
      const jobs = ids.map((id, i) => enqueueJob(t.deps, { serviceId: id, kind: "test-build", payload: { name: `b${i}` } }));
      worker = await startWorker(t.deps);
      for (const j of jobs) await waitForJob(t.deps, j.id);
      let running = 0;
      let peak = 0;
      for (const e of events) {
        running += e.startsWith("start") ? 1 : -1;
        peak = Math.max(peak, running);
      }
      expect(peak).toBe(concurrency);
    });
  }
});
