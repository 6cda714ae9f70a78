// The reproduction on the real Docker engine: retention removes an old release's image,
// then deploying that release (a rollback) is refused up front with 409 naming the image, where it
// used to be accepted and then fail with Docker's raw "No such image".
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { snapshotDb, testApp, type TestApp } from "../support/app";
import { contextTar, ensureBaseImage, removeLabelled, RUN_ID, TEST_RUN_LABEL, testDocker, removeOrgResources } from "../support/docker";
import { startWorker, type Worker } from "../../src/jobs/worker";
import { waitForJob } from "../../src/jobs/queue";

// three real image builds
setDefaultTimeout(300_000);

let t: TestApp;
let worker: Worker;
let key: string;
const ORG = `rp${RUN_ID}`;
const SVC = `/api/v1/orgs/${ORG}/projects/web/envs/production/services/api`;
const ref = (v: number) => `ancla/${ORG}/web/production/api:v${v}`;
const imageExists = (r: string) => testDocker().getImage(r).inspect().then(() => true, () => false);

async function build(n: number) {
  const body = await contextTar({ Dockerfile: `FROM ancla-test/busybox\nRUN echo rollback-pruned-${n}\n` });
  const r = await t.req("POST", `${SVC}/images/build`, undefined, { key, raw: body as BodyInit, headers: { "content-type": "application/x-tar" } });
  expect(r.status).toBe(201);
  expect((await waitForJob(t.deps, r.body.job_id, 120_000)).status).toBe("complete");
}

beforeAll(async () => {
  await ensureBaseImage();
  t = await testApp();
  key = (await t.user("owner")).key;
  expect((await t.req("POST", "/api/v1/organizations", { name: "Pruned", slug: ORG }, { key })).status).toBe(201);
  expect((await t.req("POST", `/api/v1/orgs/${ORG}/projects`, { name: "Web", slug: "web" }, { key })).status).toBe(201);
  expect((await t.req("POST", `/api/v1/orgs/${ORG}/projects/web/envs/production/services`, { name: "api", keep_images: 1 }, { key })).status).toBe(201);
  worker = await startWorker(t.deps);
});

afterAll(async () => {
  await worker?.stop();
  await removeOrgResources(ORG);
  await removeLabelled(`${TEST_RUN_LABEL}=${RUN_ID}`);
  t?.close();
});

describe("rollback to a release whose image retention removed", () => {
  test("is refused with 409 'image v1 was removed by retention' and queues nothing", async () => {
    const svc = (await t.req("GET", SVC, undefined, { key })).body;
    await build(1);
    const r1 = await t.req("POST", `/api/v1/releases/${svc.id}/create`, undefined, { key });
    expect(r1.status).toBe(201);
    await build(2);
    expect((await t.req("POST", `/api/v1/releases/${svc.id}/create`, undefined, { key })).status).toBe(201);
    // keep_images 1: the newest image (v3) and the newest release's image (v2) stay, v1 goes
    await build(3);
    expect(await imageExists(ref(1))).toBe(false);
    expect(await imageExists(ref(2))).toBe(true);

    const before = snapshotDb(t.deps);
    for (const [path, body] of [[`/api/v1/releases/${r1.body.release_id}/deploy`, undefined], [`${SVC}/deploy`, { version: 1 }]] as const) {
      const r = await t.req("POST", path, body, { key });
      expect([path, r.status]).toEqual([path, 409]);
      expect(r.body.message).toContain("image v1 was removed by retention");
    }
    expect(snapshotDb(t.deps)).toBe(before);
  });
});
