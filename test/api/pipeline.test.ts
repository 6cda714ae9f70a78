// Pipeline routes in process (no Docker: no worker runs, so queued work stays queued): reference
// shapes of pipeline-status / pipeline-metrics / DeployTriggerResponse, history, access (401, 404,
// 403 on protected environments), bad input that changes nothing, and the metrics arithmetic
// over seeded builds and deployments (30-day window, nearest-rank percentiles).
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { snapshotDb, testApp, type TestApp } from "../support/app";
import { referenceProblems } from "../support/reference-schema";
import { insertImage } from "../../src/modules/images/repo";
import { insertRelease } from "../../src/modules/releases/repo";
import { insertDeployment } from "../../src/modules/deployments/repo";
import { newId } from "../../src/lib/ids";
import { INTERRUPTED, markJob, waitForJob } from "../../src/jobs/queue";
import { startWorker } from "../../src/jobs/worker";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

let t: TestApp;
let owner: string;
let member: string;
let stranger: string;
let appId: string;
const P = "/api/v1/orgs/acme/projects/web";
const S = `${P}/envs/production/services`;

beforeAll(async () => {
  t = await testApp();
  owner = (await t.user("owner")).key;
  member = (await t.user("member")).key;
  stranger = (await t.user("stranger")).key;
  expect((await t.req("POST", "/api/v1/organizations", { name: "acme", slug: "acme" }, { key: owner })).status).toBe(201);
  expect((await t.req("POST", "/api/v1/organizations/acme/members", { username: "member" }, { key: owner })).status).toBe(201);
  expect((await t.req("POST", "/api/v1/orgs/acme/projects", { name: "Web", slug: "web" }, { key: owner })).status).toBe(201);
  const svc = await t.req("POST", S, { name: "site" }, { key: owner });
  expect(svc.status).toBe(201);
  appId = svc.body.id;
});
afterAll(() => t?.close());

describe("pipeline status, metrics and history", () => {
  test("a service without activity: every stage null, empty history (reference shapes)", async () => {
    for (const ref of [appId, "acme/web/site"]) {
      const s = await t.req("GET", `/api/v1/applications/${ref}/pipeline-status`, undefined, { key: owner });
      expect(s.status).toBe(200);
      expect(s.body).toEqual({ build: null, release: null, deploy: null });
      expect(referenceProblems("PipelineStatusResponse", s.body)).toEqual([]);
      const m = await t.req("GET", `/api/v1/applications/${ref}/pipeline-metrics`, undefined, { key: owner });
      expect(m.body).toEqual({ build: null, release: null, deploy: null });
      expect(referenceProblems("PipelineMetricsResponse", m.body)).toEqual([]);
    }
    expect((await t.req("GET", `${P}/pipeline/status?service=site`, undefined, { key: member })).body).toEqual({ build: null, release: null, deploy: null });
    expect((await t.req("GET", `${P}/pipeline/history?service=site&env=production`, undefined, { key: member })).body).toEqual([]);
  });

  test("metrics: counts, success rate and duration avg/p50/p95 in seconds over the last 30 days", async () => {
    const svc = (await t.req("POST", S, { name: "metered" }, { key: owner })).body.id as string;
    const now = Date.now();
    const at = (agoMin: number, durS = 0) => ({ startedAt: new Date(now - agoMin * 60_000).toISOString(), finishedAt: new Date(now - agoMin * 60_000 + durS * 1000).toISOString() });
    const image = (version: number, status: "complete" | "error", agoMin: number, durS: number) => {
      const times = at(agoMin, durS);
      return insertImage(t.deps.db, {
        id: newId(), serviceId: svc, version, status, source: "image", repositoryName: "ancla/x", tag: `v${version}`,
        createdAt: times.startedAt, updatedAt: times.finishedAt, ...times,
      });
    };
    [10, 20, 30, 40].forEach((d, i) => image(i + 1, "complete", 100 - i, d));
    image(5, "error", 50, 5);
    image(6, "complete", 40 * 24 * 60, 999); // older than 30 days: left out
    const rel = insertRelease(t.deps.db, {
      id: newId(), serviceId: svc, version: 1, status: "complete", imageRef: "sha256:x", processes: { web: null }, config: [], port: 8000,
      healthCheckPath: "/_health/", imageChanges: {}, configurationChanges: {}, createdAt: new Date(now).toISOString(), updatedAt: new Date(now).toISOString(),
    });
    [3, 5].forEach((d, i) => {
      const times = at(30 - i, d);
      insertDeployment(t.deps.db, { id: newId(), serviceId: svc, releaseId: rel.id, version: i + 1, status: i === 0 ? "complete" : "error", metadata: {}, createdAt: times.startedAt, updatedAt: times.finishedAt, ...times });
    });
    const m = await t.req("GET", `/api/v1/applications/${svc}/pipeline-metrics`, undefined, { key: owner });
    expect(m.status).toBe(200);
    expect(m.body).toEqual({
      build: { success: 4, error: 1, success_rate: 0.8, duration: { avg: 21, p50: 20, p95: 40, count: 5 } },
      release: { success: 1, error: 0, success_rate: 1, duration: null },
      deploy: { success: 1, error: 1, success_rate: 0.5, duration: { avg: 4, p50: 3, p95: 5, count: 2 } },
    });
    expect(referenceProblems("PipelineMetricsResponse", m.body)).toEqual([]);
    expect((await t.req("GET", `${P}/pipeline/metrics?service=metered&env=production`, undefined, { key: owner })).body).toEqual(m.body);
  });

  test("a deploy request (pre-built image source) answers DeployTriggerResponse and queues build and pipeline", async () => {
    const svc = await t.req("POST", S, { name: "prebuilt", image: "ancla-test/busybox:latest" }, { key: owner });
    const r = await t.req("POST", `/api/v1/applications/${svc.body.id}/deploy`, undefined, { key: member });
    expect(r.status).toBe(201);
    expect(referenceProblems("DeployTriggerResponse", r.body)).toEqual([]);
    expect(r.body).toMatchObject({ ok: true, image_version: 1 });
    const status = await t.req("GET", `${P}/pipeline/status?service=prebuilt`, undefined, { key: owner });
    expect(status.body).toEqual({ build: { id: r.body.image_id, status: "queued", version: 1, error_detail: null, step: null }, release: null, deploy: null });
    const hist = await t.req("GET", `${P}/pipeline/history?service=prebuilt&limit=1`, undefined, { key: owner });
    expect(hist.body).toEqual([
      expect.objectContaining({ id: r.body.pipeline_id, status: "queued", stage: null, image: { id: r.body.image_id, version: 1, status: "queued" }, release: null, deployment: null }),
    ]);
    const run = await t.req("GET", `${P}/pipeline/runs/${r.body.pipeline_id}`, undefined, { key: owner });
    expect(run.body.id).toBe(r.body.pipeline_id);
    // a second request queues behind the first (image v2, its own pipeline)
    const again = await t.req("POST", `${P}/envs/production/deploy?service=prebuilt`, undefined, { key: owner });
    expect(again.status).toBe(201);
    expect(again.body.image_version).toBe(2);
    expect((await t.req("GET", `${P}/pipeline/history?service=prebuilt`, undefined, { key: owner })).body.length).toBe(2);
  });
});

describe("interrupted while building", () => {
  test("a build cut off by a restart ends its pipeline as error 'interrupted by server restart'; no release, no deployment", async () => {
    // its own app: the worker started here must find no other queued work (that would reach Docker)
    const t2 = await testApp();
    try {
      const key = (await t2.user("solo")).key;
      expect((await t2.req("POST", "/api/v1/organizations", { name: "solo", slug: "solo" }, { key })).status).toBe(201);
      expect((await t2.req("POST", "/api/v1/orgs/solo/projects", { name: "Web", slug: "web" }, { key })).status).toBe(201);
      const svc = await t2.req("POST", "/api/v1/orgs/solo/projects/web/envs/production/services", { name: "cutoff", image: "ancla-test/busybox:latest" }, { key });
      const r = await t2.req("POST", `/api/v1/applications/${svc.body.id}/deploy`, undefined, { key });
      expect(r.status).toBe(201);
      // the previous process had started the build when it died: its job is left `running`
      const build = t2.deps.sqlite.query("select id from jobs where service_id = ? and kind = 'build'").get(svc.body.id) as { id: string };
      markJob(t2.deps, build.id, { status: "running", startedAt: new Date().toISOString() });
      const worker = await startWorker(t2.deps); // recovery first, then the queued pipeline job runs
      try {
        const job = await waitForJob(t2.deps, r.body.pipeline_id, 10_000);
        expect(job).toMatchObject({ status: "error", error: INTERRUPTED });
      } finally {
        await worker.stop();
      }
      const status = (await t2.req("GET", `/api/v1/applications/${svc.body.id}/pipeline-status`, undefined, { key })).body;
      expect(status).toEqual({ build: { id: r.body.image_id, status: "error", version: 1, error_detail: INTERRUPTED, step: null }, release: null, deploy: null });
      const hist = (await t2.req("GET", "/api/v1/orgs/solo/projects/web/pipeline/history?service=cutoff", undefined, { key })).body;
      expect(hist[0]).toMatchObject({ status: "error", stage: "build", error_detail: INTERRUPTED, release: null, deployment: null });
      expect(t2.deps.sqlite.query("select count(*) as n from jobs where status in ('queued', 'running')").get()).toEqual({ n: 0 });
    } finally {
      t2.close();
    }
  });
});

describe("access and bad input", () => {
  test("no key → 401 on every route", async () => {
    const routes: [string, string][] = [
      ["GET", `/api/v1/applications/${appId}/pipeline-status`],
      ["GET", `/api/v1/applications/${appId}/pipeline-metrics`],
      ["POST", `/api/v1/applications/${appId}/deploy`],
      ["GET", `${P}/pipeline/status?service=site`],
      ["GET", `${P}/pipeline/metrics?service=site`],
      ["GET", `${P}/pipeline/history?service=site`],
      ["POST", `${P}/pipeline/deploy?service=site`],
      ["POST", `${P}/pipeline/rollback?service=site`],
      ["POST", `${P}/envs/production/deploy?service=site`],
      ["GET", `${P}/pipeline/status`], // 401 before the query is judged
    ];
    for (const [method, path] of routes) expect([method, path, (await t.req(method, path)).status]).toEqual([method, path, 401]);
  });

  test("a stranger and unknown names → 404 (nothing leaks)", async () => {
    expect((await t.req("GET", `/api/v1/applications/${appId}/pipeline-status`, undefined, { key: stranger })).status).toBe(404);
    expect((await t.req("GET", `${P}/pipeline/history?service=site`, undefined, { key: stranger })).status).toBe(404);
    expect((await t.req("POST", `${P}/pipeline/deploy?service=site`, undefined, { key: stranger })).status).toBe(404);
    expect((await t.req("GET", `${P}/pipeline/status?service=nope`, undefined, { key: owner })).status).toBe(404);
    expect((await t.req("GET", `${P}/pipeline/status?service=site&env=nope`, undefined, { key: owner })).status).toBe(404);
    expect((await t.req("GET", `/api/v1/applications/01900000-0000-7000-8000-000000000000/pipeline-metrics`, undefined, { key: owner })).status).toBe(404);
    expect((await t.req("GET", `${P}/pipeline/runs/01900000-0000-7000-8000-000000000000`, undefined, { key: owner })).status).toBe(404);
  });

  test("bad input → 4xx and nothing written", async () => {
    const before = snapshotDb(t.deps);
    expect((await t.req("GET", `${P}/pipeline/status`, undefined, { key: owner })).status).toBe(422);
    expect((await t.req("GET", `${P}/pipeline/history?service=site&limit=0`, undefined, { key: owner })).status).toBe(422);
    expect((await t.req("GET", `${P}/pipeline/history?service=site&limit=abc`, undefined, { key: owner })).status).toBe(422);
    const nothing = await t.req("POST", `${P}/pipeline/deploy?service=site`, undefined, { key: owner });
    expect(nothing.status).toBe(422);
    expect(nothing.body.message).toContain("Nothing to build");
    const wrongType = await t.req("POST", `/api/v1/applications/${appId}/deploy`, undefined, { key: owner, raw: "hello", headers: { "content-type": "text/plain" } });
    expect(wrongType.status).toBe(415);
    // a form-typed body (curl --data-binary's default) over 1 MiB: the route's own answer, not the form parser's limit
    for (const path of [`/api/v1/applications/${appId}/deploy`, `${P}/pipeline/deploy?service=site`]) {
      const form = await t.req("POST", path, undefined, { key: owner, raw: "x".repeat(2 * 1024 * 1024), headers: { "content-type": "application/x-www-form-urlencoded" } });
      expect([path, form.status, form.body.message]).toEqual([path, 415, expect.stringContaining("Unsupported Content-Type 'application/x-www-form-urlencoded'")]);
    }
    const notTar = await t.req("POST", `/api/v1/applications/${appId}/deploy`, undefined, { key: owner, raw: "definitely not a tar archive".repeat(40), headers: { "content-type": "application/x-tar" } });
    expect(notTar.status).toBeGreaterThanOrEqual(400);
    expect(notTar.status).toBeLessThan(500);
    const rb = await t.req("POST", `${P}/pipeline/rollback?service=site`, undefined, { key: owner });
    expect(rb.status).toBe(409);
    expect(rb.body.message).toContain("no successful deployment");
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("protected environment: a member's deploy and rollback → 403, nothing written; reading is fine", async () => {
    expect((await t.req("POST", `${P}/envs`, { name: "Live", slug: "live", env_type: "production", protected: true }, { key: owner })).status).toBe(201);
    const live = await t.req("POST", `${P}/envs/live/services`, { name: "shop", image: "ancla-test/busybox:latest" }, { key: owner });
    expect(live.status).toBe(201);
    const before = snapshotDb(t.deps);
    for (const path of [`${P}/pipeline/deploy?service=shop&env=live`, `${P}/envs/live/deploy?service=shop`, `${P}/pipeline/rollback?service=shop&env=live`, `/api/v1/applications/${live.body.id}/deploy`]) {
      const r = await t.req("POST", path, undefined, { key: member });
      expect([path, r.status]).toEqual([path, 403]);
      expect(r.body.message).toContain("protected");
    }
    expect(snapshotDb(t.deps)).toBe(before);
    expect((await t.req("GET", `${P}/pipeline/status?service=shop&env=live`, undefined, { key: member })).status).toBe(200);
    // an org admin may
    expect((await t.req("POST", `${P}/pipeline/deploy?service=shop&env=live`, undefined, { key: owner })).status).toBe(201);
  });

  test("`/applications/{org}/deploy` with a slug still means the project named 'deploy' (create/list apps there)", async () => {
    expect((await t.req("POST", "/api/v1/orgs/acme/projects", { name: "Deploy", slug: "deploy" }, { key: owner })).status).toBe(201);
    const made = await t.req("POST", "/api/v1/applications/acme/deploy", { name: "thing" }, { key: owner });
    expect(made.status).toBe(201);
    expect(made.body).toMatchObject({ slug: "thing", project_slug: "deploy" });
    expect((await t.req("POST", "/api/v1/applications/acme/deploy", { name: 5 }, { key: owner })).status).toBe(422);
    expect((await t.req("POST", "/api/v1/applications/acme/deploy", undefined, { key: owner, raw: "{bad", headers: { "content-type": "application/json" } })).status).toBe(400);
    expect((await t.req("POST", "/api/v1/orgs/acme/projects", { name: "Pipeline status", slug: "pipeline-status" }, { key: owner })).status).toBe(201);
    const listed = await t.req("GET", "/api/v1/applications/acme/pipeline-status", undefined, { key: owner });
    expect(listed.status).toBe(200);
    expect(listed.body).toEqual([]);
  });
});
