// Crash safety of the pipeline with a real `ancla serve`: kill -9 while a pipeline's deploy waits
// in its health step, start again on the same data dir: the run and its deployment are error
// "interrupted by server restart", the half-started containers are gone, the previous release
// still serves through the (new) router, and a new pipeline runs normally afterwards.
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixtureFiles } from "../fixtures/webapp/support";
import { contextTar, ensureBaseImage, RUN_ID, testDocker, removeOrgResources, RUN_LABELS_ENV } from "../support/docker";
import { startLiveServer, type LiveServer } from "../support/server";

// Docker builds and rollouts outlast bun's 5 s default; plain `bun test` passes no --timeout
setDefaultTimeout(300_000);

const ORG = `rst${RUN_ID}`.toLowerCase();
const dataDir = mkdtempSync(join(tmpdir(), "ancla-restart-"));
let s: LiveServer | undefined;
let key = "";
const P = `/api/v1/orgs/${ORG}/projects/web`;

const call = async (method: string, path: string, body?: unknown, raw?: BodyInit) => {
  const headers: Record<string, string> = { "x-api-key": key };
  if (raw) headers["content-type"] = "application/x-tar";
  else if (body !== undefined) headers["content-type"] = "application/json";
  const r = await fetch(s!.url + path, { method, headers, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)) });
  return { status: r.status, body: (await r.json()) as any };
};
const routerUrl = () => /ancla router listening on (http:\/\/\S+)/.exec(s!.output())?.[1];
async function until<T>(what: string, f: () => Promise<T | undefined>, ms = 120_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await f();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(200);
  }
}
const runDone = (id: string) =>
  until(`run ${id}`, async () => {
    const r = (await call("GET", `${P}/pipeline/runs/${id}`)).body;
    return r.status === "complete" || r.status === "error" ? r : undefined;
  });
async function page(path = "/cgi-bin/env") {
  const router = await until("the router", async () => routerUrl());
  const res = await fetch(router + path, { headers: { host: `app.web.${ORG}.localhost` } });
  return { status: res.status, text: await res.text() };
}

beforeAll(async () => {
  await ensureBaseImage();
  s = await startLiveServer({ dataDir, env: RUN_LABELS_ENV });
  key = s.adminKey;
  expect((await call("POST", "/api/v1/organizations", { name: ORG, slug: ORG })).status).toBe(201);
  expect((await call("POST", "/api/v1/orgs/" + ORG + "/projects", { name: "Web", slug: "web" })).status).toBe(201);
  expect((await call("POST", `${P}/envs/production/services`, { name: "app", deployment_timeout: 60 })).status).toBe(201);
  expect((await call("POST", `${P}/envs/production/services/app/config`, { name: "GREETING", value: "before-crash" })).status).toBeLessThan(300);
});
afterAll(async () => {
  await s?.stop();
  await removeOrgResources(ORG);
  rmSync(dataDir, { recursive: true, force: true });
});

test("kill -9 mid-pipeline, restart: interrupted run and deployment, no half-started containers, the old release serves", async () => {
  const first = await call("POST", `${P}/pipeline/deploy?service=app`, undefined, (await contextTar(fixtureFiles())) as unknown as BodyInit);
  expect(first.status).toBe(201);
  expect((await runDone(first.body.pipeline_id)).status).toBe("complete");
  expect((await page()).text).toContain("GREETING=before-crash");

  // the next pipeline's new replica never becomes healthy: it waits in the health step
  expect((await call("PATCH", `${P}/envs/production/services/app`, { health_check_path: "/never/" })).status).toBe(200);
  await call("POST", `${P}/envs/production/services/app/config`, { name: "GREETING", value: "never-served" });
  const second = await call("POST", `${P}/pipeline/deploy?service=app`);
  expect(second.status).toBe(201);
  const deploymentId = await until("the health step", async () => {
    const run = (await call("GET", `${P}/pipeline/runs/${second.body.pipeline_id}`)).body;
    if (!run.deployment) return undefined;
    const d = (await call("GET", `/api/v1/deployments/${run.deployment.id}/detail`)).body;
    return d.deploy_step?.name === "health" ? (run.deployment.id as string) : undefined;
  });
  const halfStarted = await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.deployment=${deploymentId}`] } });
  expect(halfStarted.length).toBe(1);

  expect(await s!.stop({ signal: "SIGKILL", keep: true })).not.toBe(0);
  s = await startLiveServer({ dataDir, createKey: false, env: RUN_LABELS_ENV });

  const run = await runDone(second.body.pipeline_id);
  expect(run).toMatchObject({ status: "error", stage: "deploy", error_detail: "interrupted by server restart" });
  const d = (await call("GET", `/api/v1/deployments/${deploymentId}/detail`)).body;
  expect(d).toMatchObject({ status: "error", error_detail: "interrupted by server restart" });
  await until("the half-started replica's removal", async () =>
    (await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.deployment=${deploymentId}`] } })).length === 0 ? true : undefined,
  );
  const served = await until("the router to serve again", async () => {
    const p = await page().catch(() => undefined);
    return p?.status === 200 ? p : undefined;
  });
  expect(served.text).toContain("GREETING=before-crash");
  const status = (await call("GET", `${P}/pipeline/status?service=app`)).body;
  expect(status.deploy).toMatchObject({ status: "error", error_detail: "interrupted by server restart" });

  // nothing else is lost: the next pipeline runs and serves
  expect((await call("PATCH", `${P}/envs/production/services/app`, { health_check_path: "/_health/" })).status).toBe(200);
  const third = await call("POST", `${P}/pipeline/deploy?service=app`);
  expect((await runDone(third.body.pipeline_id)).status).toBe("complete");
  expect((await page()).text).toContain("GREETING=never-served");
}, 300_000);
