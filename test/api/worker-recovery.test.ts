// A restart's recovery of interrupted jobs: a cleanup that hangs (a cluster that does not answer)
// must not hold up the start — the worker starts, other services' queued jobs run — while the hung
// service's own queued jobs wait until its cleanup has finished.
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { testApp, type TestApp } from "../support/app";
import { enqueueJob, getJob, INTERRUPTED, markJob, registerJobHandler, waitForJob } from "../../src/jobs/queue";
import { startWorker } from "../../src/jobs/worker";

setDefaultTimeout(180_000);

let t: TestApp;
let services: string[] = [];
beforeAll(async () => {
  t = await testApp();
  const key = (await t.user("owner")).key;
  expect((await t.req("POST", "/api/v1/organizations", { name: "acme", slug: "acme" }, { key })).status).toBe(201);
  expect((await t.req("POST", "/api/v1/orgs/acme/projects", { name: "Web", slug: "web" }, { key })).status).toBe(201);
  for (const name of ["stuck", "other"]) {
    const r = await t.req("POST", "/api/v1/orgs/acme/projects/web/envs/production/services", { name }, { key });
    expect(r.status).toBe(201);
    services.push(r.body.id);
  }
});
afterAll(() => t?.close());

test("a cleanup that hangs goes on in the background: the worker starts, other services run, the hung service waits for it", async () => {
  let release!: () => void;
  const hung = new Promise<void>((r) => (release = r));
  const ran: string[] = [];
  registerJobHandler("test-hangs-on-recovery", {
    run: async ({ job }) => void ran.push(job.serviceId),
    onInterrupted: () => hung,
  });
  const [stuck, other] = services;
  const cut = enqueueJob(t.deps, { serviceId: stuck!, kind: "test-hangs-on-recovery" });
  markJob(t.deps, cut.id, { status: "running", startedAt: new Date().toISOString() }); // the previous process died here
  const nextOfStuck = enqueueJob(t.deps, { serviceId: stuck!, kind: "test-hangs-on-recovery" });
  const ofOther = enqueueJob(t.deps, { serviceId: other!, kind: "test-hangs-on-recovery" });

  const worker = await startWorker(t.deps); // returns although the cleanup never finished
  try {
    expect(getJob(t.deps, cut.id)).toMatchObject({ status: "error", error: INTERRUPTED });
    expect(await waitForJob(t.deps, ofOther.id, 20_000)).toMatchObject({ status: "complete" });
    expect(getJob(t.deps, nextOfStuck.id)?.status).toBe("queued"); // still behind its service's cleanup
    expect(ran).toEqual([other]);
    release();
    expect(await waitForJob(t.deps, nextOfStuck.id, 20_000)).toMatchObject({ status: "complete" });
    expect(ran).toEqual([other, stuck]);
  } finally {
    release();
    await worker.stop();
  }
});
