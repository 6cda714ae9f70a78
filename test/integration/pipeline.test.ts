// The full pipeline on the real Docker engine: build → release → deploy as one queued unit per
// request, reached through the router; status/history/metrics; rollback to the previous
// successful release; a failing build leaves the previous release serving; a stop mid-deploy is
// finished as "interrupted by server restart" on the next start.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { deployHarness, fixtureFiles, type DeployHarness } from "../fixtures/webapp/support";
import { snapshotDb } from "../support/app";
import { contextTar, testDocker } from "../support/docker";
import { getJob, INTERRUPTED, waitForJob } from "../../src/jobs/queue";
import { recoverInterruptedJobs, startWorker } from "../../src/jobs/worker";
import { startSystemPipeline } from "../../src/modules/pipeline";

// Docker builds and rollouts outlast bun's 5 s default; plain `bun test` (README, CI) passes no --timeout
setDefaultTimeout(300_000);

let h: DeployHarness;
let appId: string;
const SECRET = "pipe-secret-" + crypto.randomUUID();
const envOf = (text: string, name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1];
const tarBody = async (files = fixtureFiles()) => (await contextTar(files)) as unknown as BodyInit;

beforeAll(async () => {
  h = await deployHarness("pip");
  appId = await h.service("app", { process_counts: { web: 1 }, deployment_timeout: 30 });
  await h.setVar("app", "GREETING", "one");
  await h.setVar("app", "API_TOKEN", SECRET, true);
});
let extraWorker: { stop: () => Promise<void> } | undefined;
afterAll(async () => {
  await extraWorker?.stop();
  await h?.close();
});

const pipelinePath = (what: string, q = "service=app&env=production") => `/api/v1/orgs/${h.org}/projects/web/pipeline/${what}?${q}`;
const finish = async (pipelineId: string) => waitForJob(h.t.deps, pipelineId, 180_000);

describe("pipeline deploy", () => {
  let first: { image_id: string; pipeline_id: string };

  test("POST /applications/{id}/deploy with a tar body: build → release → deploy; a second request queues behind the first", async () => {
    const a = await h.t.req("POST", `/api/v1/applications/${appId}/deploy`, undefined, { key: h.key, raw: await tarBody(), headers: { "content-type": "application/x-tar" } });
    expect(a.status).toBe(201);
    first = { ...a.body }; // (bun's toMatchObject writes its matchers into the received object)
    expect(a.body).toMatchObject({ ok: true, image_id: expect.any(String), image_version: 1, pipeline_id: expect.any(String) });
    // no body: rebuilds from the last uploaded context
    const b = await h.t.req("POST", `/api/v1/applications/${h.org}/web/app/deploy`, undefined, { key: h.key });
    expect(b.status).toBe(201);
    expect(b.body.image_version).toBe(2);

    const status = await h.t.req("GET", `/api/v1/applications/${appId}/pipeline-status`, undefined, { key: h.key });
    expect(status.status).toBe(200);
    expect(["queued", "running"]).toContain(status.body.build.status);

    const j1 = await finish(first.pipeline_id);
    expect(j1.error).toBeNull();
    expect(j1.status).toBe("complete");
    const j2 = await finish(b.body.pipeline_id);
    expect(j2.status).toBe("complete");
    // one unit per request: the second build started only after the first pipeline (incl. its deploy) ended
    const img2 = await h.t.req("GET", `/api/v1/images/${b.body.image_id}/detail`, undefined, { key: h.key });
    expect(Date.parse(img2.body.started_at)).toBeGreaterThanOrEqual(Date.parse(j1.finishedAt!));

    const page = await h.get(h.host("app"), "/cgi-bin/env");
    expect(page.status).toBe(200);
    expect(envOf(page.text, "GREETING")).toBe("one");
    expect(envOf(page.text, "API_TOKEN")).toBe(SECRET);
  });

  test("pipeline-status (id and path forms) shows the three stages of the latest run", async () => {
    for (const ref of [appId, `${h.org}/web/app`]) {
      const r = await h.t.req("GET", `/api/v1/applications/${ref}/pipeline-status`, undefined, { key: h.key });
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        build: { id: expect.any(String), status: "complete", version: 2, error_detail: null, step: { name: "complete" } },
        release: { id: expect.any(String), status: "complete", version: 2, error_detail: null, step: null },
        deploy: { id: expect.any(String), status: "complete", version: 2, error_detail: null, step: expect.objectContaining({ name: "cleanup" }) },
      });
    }
    const hier = await h.t.req("GET", pipelinePath("status"), undefined, { key: h.key });
    expect(hier.body.deploy.version).toBe(2);
  });

  test("history lists each run with its image, release and deployment; metrics count them", async () => {
    const r = await h.t.req("GET", pipelinePath("history", "service=app&limit=5"), undefined, { key: h.key });
    expect(r.status).toBe(200);
    expect(r.body.length).toBe(2);
    expect(r.body[0]).toMatchObject({ status: "complete", stage: null, error_detail: null, image: { version: 2, status: "complete" }, release: { version: 2 }, deployment: { version: 2, status: "complete" } });
    expect(r.body[1]).toMatchObject({ id: first.pipeline_id, image: { id: first.image_id, version: 1 }, release: { version: 1 } });
    expect(r.body[0].duration_seconds).toBeGreaterThan(0);

    const m = await h.t.req("GET", `/api/v1/applications/${appId}/pipeline-metrics`, undefined, { key: h.key });
    expect(m.status).toBe(200);
    expect(m.body.build).toMatchObject({ success: 2, error: 0, success_rate: 1, duration: { count: 2 } });
    expect(m.body.release).toEqual({ success: 2, error: 0, success_rate: 1, duration: null });
    expect(m.body.deploy).toMatchObject({ success: 2, error: 0, success_rate: 1 });
    expect(m.body.deploy.duration.p95).toBeGreaterThanOrEqual(m.body.deploy.duration.p50);
    expect(m.body.deploy.duration.avg).toBeGreaterThan(0);
  });

  test("config change + pipeline via envs/{env}/deploy serves the new value; rollback serves the previous successful release again", async () => {
    await h.setVar("app", "GREETING", "two");
    const r = await h.t.req("POST", `/api/v1/orgs/${h.org}/projects/web/envs/production/deploy?service=app`, undefined, { key: h.key });
    expect(r.status).toBe(201);
    expect((await finish(r.body.pipeline_id)).status).toBe("complete");
    expect(envOf((await h.get(h.host("app"), "/cgi-bin/env")).text, "GREETING")).toBe("two");

    const rb = await h.t.req("POST", pipelinePath("rollback"), undefined, { key: h.key });
    expect(rb.status).toBe(201);
    expect(rb.body).toMatchObject({ ok: true, release_version: 2 });
    const d = await h.waitDeployment(rb.body.deployment_id);
    expect(d.status).toBe("complete");
    expect(envOf((await h.get(h.host("app"), "/cgi-bin/env")).text, "GREETING")).toBe("one");
  });

  test("a failing build: pipeline error naming the build, no release or deployment, the previous release keeps serving", async () => {
    const before = (await h.t.req("GET", `${h.base()}/app/releases`, undefined, { key: h.key })).body.length;
    const bad = fixtureFiles({ Dockerfile: "FROM ancla-test/busybox\nRUN exit 3\n" });
    const r = await h.t.req("POST", pipelinePath("deploy", "service=app"), undefined, { key: h.key, raw: await tarBody(bad), headers: { "content-type": "application/gzip" } });
    // gzip content type with a plain tar is accepted as well (the context store sniffs)
    expect(r.status).toBe(201);
    const job = await finish(r.body.pipeline_id);
    expect(job.status).toBe("error");
    expect(job.error).toContain(`build v${r.body.image_version} failed`);
    const status = (await h.t.req("GET", `/api/v1/applications/${appId}/pipeline-status`, undefined, { key: h.key })).body;
    expect(status.build.status).toBe("error");
    expect(status.deploy.status).toBe("complete");
    expect((await h.t.req("GET", `${h.base()}/app/releases`, undefined, { key: h.key })).body.length).toBe(before);
    expect(envOf((await h.get(h.host("app"), "/cgi-bin/env")).text, "GREETING")).toBe("one");
    const hist = (await h.t.req("GET", pipelinePath("history"), undefined, { key: h.key })).body;
    expect(hist[0]).toMatchObject({ status: "error", stage: "build", release: null, deployment: null });
    const m = (await h.t.req("GET", pipelinePath("metrics"), undefined, { key: h.key })).body;
    expect(m.build).toMatchObject({ success: 3, error: 1, success_rate: 0.75 });
  });

  test("a pipeline started by the server itself (webhook path): no user recorded, same build → release → deploy", async () => {
    const started = startSystemPipeline(h.t.deps, appId, { kind: "auto", reuseLastUpload: true });
    // the last upload is the failing one of the previous test: upload the good context again first
    expect((await finish(started.job.id)).status).toBe("error");
    const good = await h.t.req("POST", pipelinePath("deploy"), undefined, { key: h.key, raw: await tarBody(), headers: { "content-type": "application/x-tar" } });
    expect((await finish(good.body.pipeline_id)).status).toBe("complete");
    const sys = startSystemPipeline(h.t.deps, appId, { kind: "auto", reuseLastUpload: true });
    const job = await finish(sys.job.id);
    expect(job.error).toBeNull();
    const run = (await h.t.req("GET", `/api/v1/orgs/${h.org}/projects/web/pipeline/runs/${sys.job.id}`, undefined, { key: h.key })).body;
    expect(run).toMatchObject({ status: "complete", image: { version: sys.imageVersion } });
    const row = h.t.deps.sqlite.query("select created_by_id from deployments where id = ?").get(run.deployment.id) as { created_by_id: string | null };
    expect(row.created_by_id).toBeNull();
    expect(envOf((await h.get(h.host("app"), "/cgi-bin/env")).text, "GREETING")).toBe("two");
  });

  test("nothing to build (no upload, git or image) → 422 and nothing is written", async () => {
    await h.service("empty");
    const before = snapshotDb(h.t.deps);
    const r = await h.t.req("POST", pipelinePath("deploy", "service=empty"), undefined, { key: h.key });
    expect(r.status).toBe(422);
    expect(r.body.message).toContain("Nothing to build");
    expect(snapshotDb(h.t.deps)).toBe(before);
  });

  test("no secret value in any response", () => {
    expect(h.t.bodies.some((b) => b.includes(SECRET))).toBe(false);
  });
});

describe("interrupted pipeline", () => {
  test("stopped mid-deploy: on the next start the pipeline and deployment are error 'interrupted by server restart', its containers are gone, the previous release serves", async () => {
    const serving = envOf((await h.get(h.host("app"), "/cgi-bin/env")).text, "GREETING");
    expect(serving).toBeDefined();
    // a health path that never answers keeps the deploy in its health step long enough to stop it
    expect((await h.t.req("PATCH", `${h.base()}/app`, { health_check_path: "/never/", deployment_timeout: 60 }, { key: h.key })).status).toBe(200);
    const r = await h.t.req("POST", pipelinePath("deploy"), undefined, { key: h.key, raw: await tarBody(), headers: { "content-type": "application/x-tar" } });
    expect(r.status).toBe(201);
    const deadline = Date.now() + 120_000;
    let deploymentId: string | undefined;
    while (Date.now() < deadline) {
      const pj = getJob(h.t.deps, r.body.pipeline_id);
      if (pj?.status === "error" || pj?.status === "complete") throw new Error(`pipeline ended before its deploy step: ${pj.error}`);
      const res = pj?.result as { deploymentId?: string } | null;
      deploymentId = res?.deploymentId;
      if (deploymentId) {
        const d = (await h.t.req("GET", `/api/v1/deployments/${deploymentId}/detail`, undefined, { key: h.key })).body;
        if (d.deploy_step?.name === "health") break;
      }
      await Bun.sleep(100);
    }
    expect(deploymentId).toBeDefined();
    const started = await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.deployment=${deploymentId}`] } });
    expect(started.length).toBeGreaterThan(0);

    // the "crash": stop the worker (jobs stay `running`), then the start-up recovery of a new process
    await h.worker.stop();
    expect(getJob(h.t.deps, r.body.pipeline_id)?.status).toBe("running");
    await recoverInterruptedJobs(h.t.deps);
    const job = getJob(h.t.deps, r.body.pipeline_id)!;
    expect(job.status).toBe("error");
    expect(job.error).toBe(INTERRUPTED);
    const d = (await h.t.req("GET", `/api/v1/deployments/${deploymentId}/detail`, undefined, { key: h.key })).body;
    expect(d).toMatchObject({ status: "error", error_detail: INTERRUPTED });
    expect(await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.deployment=${deploymentId}`] } })).toEqual([]);
    expect(envOf((await h.get(h.host("app"), "/cgi-bin/env")).text, "GREETING")).toBe(serving!);
    const hist = (await h.t.req("GET", pipelinePath("history"), undefined, { key: h.key })).body;
    expect(hist[0]).toMatchObject({ id: r.body.pipeline_id, status: "error", stage: "deploy", error_detail: INTERRUPTED });
    // a fresh worker takes over afterwards
    extraWorker = await startWorker(h.t.deps);
  }, 180_000);
});

