// kill -9 of a live `ancla serve` in the middle of a deploy, then a restart on the same data dir:
// the deployment is error "interrupted by server restart", the replicas it started are gone, the
// previous release is served again through the (new) router, and the next deploy works.
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixtureFiles } from "../fixtures/webapp/support";
import { contextTar, ensureBaseImage, RUN_ID, testDocker, removeOrgResources, RUN_LABELS_ENV } from "../support/docker";
import { startLiveServer, type LiveServer } from "../support/server";
import { liveApi, type LiveApi } from "../support/live-api";

// Docker builds and rollouts outlast bun's 5 s default; plain `bun test` (README, CI) passes no --timeout
setDefaultTimeout(300_000);

const ORG = `crash${RUN_ID}`.toLowerCase();
const SVC = `/api/v1/orgs/${ORG}/projects/web/envs/production/services`;
const dataDir = mkdtempSync(join(tmpdir(), "ancla-crash-"));
let server: LiveServer | undefined;

async function boot(): Promise<{ s: LiveServer; api: LiveApi; routerUrl: string }> {
  const s = await startLiveServer({ dataDir, env: RUN_LABELS_ENV });
  server = s;
  let routerUrl = "";
  for (let i = 0; i < 100 && !routerUrl; i++) {
    routerUrl = /ancla router listening on (http:\/\/\S+)/.exec(s.output())?.[1] ?? "";
    if (!routerUrl) await Bun.sleep(50);
  }
  expect(routerUrl).toStartWith("http://127.0.0.1:");
  return { s, api: liveApi(s), routerUrl };
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(150);
  }
}

const greeting = async (routerUrl: string) => {
  const res = await fetch(`${routerUrl}/cgi-bin/env`, { headers: { host: `app.web.${ORG}.localhost` } });
  const text = await res.text();
  return { status: res.status, greeting: /^GREETING=(.*)$/m.exec(text)?.[1] };
};

beforeAll(async () => {
  await ensureBaseImage();
});

afterAll(async () => {
  await server?.stop({ keep: true });
  await removeOrgResources(ORG);
  rmSync(dataDir, { recursive: true, force: true });
});

test("kill -9 mid-deploy → restart: interrupted deployment is error, its replicas removed, the previous release serves", async () => {
  let { s, api, routerUrl } = await boot();
  expect((await api("POST", "/api/v1/organizations", { name: ORG, slug: ORG })).status).toBe(201);
  expect((await api("POST", `/api/v1/orgs/${ORG}/projects`, { name: "Web", slug: "web" })).status).toBe(201);
  const created = await api("POST", SVC, { name: "app", process_counts: { web: 2, worker: 1 }, deployment_timeout: 120 });
  expect(created.status).toBe(201);
  const appId = created.body.id;
  expect((await api("POST", `${SVC}/app/config`, { name: "GREETING", value: "before-crash" })).status).toBe(201);

  const build = await api("POST", `${SVC}/app/images/build`, undefined, (await contextTar(fixtureFiles())) as unknown as BodyInit);
  expect(build.status).toBe(201);
  await until("the build", async () => {
    const d = await api("GET", `/api/v1/images/${build.body.image_id}/detail`);
    if (d.body.status === "error") throw new Error(`build failed: ${d.body.error_detail}`);
    return d.body.status === "complete" ? true : undefined;
  });
  const r1 = await api("POST", `/api/v1/releases/${appId}/create`);
  expect(r1.status).toBe(201);
  const d1 = await api("POST", `/api/v1/releases/${r1.body.release_id}/deploy`);
  const first = await until("deploy v1", async () => {
    const d = await api("GET", `/api/v1/deployments/${d1.body.deployment_id}/detail`);
    return d.body.status === "complete" || d.body.status === "error" ? d.body : undefined;
  });
  expect(first.error_detail).toBeNull();
  expect(await greeting(routerUrl)).toEqual({ status: 200, greeting: "before-crash" });
  const servingV1 = (await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${appId}`] } })).map((c) => c.Id).sort();
  expect(servingV1.length).toBe(3);

  // release 2 never becomes healthy (its health path does not exist): the deploy waits in the
  // health step with its new replicas running — that is when the server dies
  expect((await api("PATCH", `${SVC}/app`, { health_check_path: "/never/" })).status).toBe(200);
  expect((await api("POST", `${SVC}/app/config`, { name: "GREETING", value: "after-crash" })).status).toBe(201);
  const r2 = await api("POST", `/api/v1/releases/${appId}/create`);
  const d2 = await api("POST", `/api/v1/releases/${r2.body.release_id}/deploy`);
  const d2id = d2.body.deployment_id;
  await until("the new replicas to start", async () => {
    const d = await api("GET", `/api/v1/deployments/${d2id}/detail`);
    const started = await testDocker().listContainers({ filters: { label: [`dev.ancla.deployment=${d2id}`] } });
    return d.body.deploy_step?.name === "health" && started.length === 3 ? true : undefined;
  });
  expect(s.proc.pid).toBeGreaterThan(0);
  await s.stop({ signal: "SIGKILL", keep: true });
  // the app keeps running without the server
  expect((await testDocker().listContainers({ filters: { label: [`dev.ancla.deployment=${d2id}`] } })).length).toBe(3);

  ({ s, api, routerUrl } = await boot());
  const after = await api("GET", `/api/v1/deployments/${d2id}/detail`);
  expect(after.body).toMatchObject({ status: "error", error: true, error_detail: "interrupted by server restart" });
  expect(after.body.deploy_log).toContain("interrupted by server restart");
  expect((await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.deployment=${d2id}`] } })).length).toBe(0);
  const running = (await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${appId}`] } })).map((c) => c.Id).sort();
  expect(running).toEqual(servingV1);
  expect(await greeting(routerUrl)).toEqual({ status: 200, greeting: "before-crash" });
  const v1 = await api("GET", `/api/v1/deployments/${d1.body.deployment_id}/detail`);
  expect(v1.body.status).toBe("complete");

  // and the next deploy works: fix the health path, release, deploy
  expect((await api("PATCH", `${SVC}/app`, { health_check_path: "/_health/" })).status).toBe(200);
  const r3 = await api("POST", `/api/v1/releases/${appId}/create`);
  const d3 = await api("POST", `${SVC}/app/deploy`, {});
  expect(d3.status).toBe(201);
  const third = await until("deploy v3", async () => {
    const d = await api("GET", `/api/v1/deployments/${d3.body.deployment_id}/detail`);
    return d.body.status === "complete" || d.body.status === "error" ? d.body : undefined;
  });
  expect(third.error_detail).toBeNull();
  expect(third.release.version).toBe(r3.body.version);
  expect(await greeting(routerUrl)).toEqual({ status: 200, greeting: "after-crash" });
  await s.stop({ keep: true });
  server = undefined;
  // a clean stop leaves the app running; a start adopts it again
  ({ s, api, routerUrl } = await boot());
  expect(await greeting(routerUrl)).toEqual({ status: 200, greeting: "after-crash" });
});

test("kill -9 after the switch, while old replicas are being removed → restart: the new release serves, the old replicas are gone", async () => {
  await server?.stop({ keep: true });
  const { api, routerUrl: _ } = await boot();
  const app = await api("GET", `/api/v1/applications/${ORG}/web/app`);
  expect(app.status).toBe(200);
  const appId = app.body.id;
  expect((await api("POST", `${SVC}/app/config`, { name: "GREETING", value: "during-cleanup" })).status).toBe(201);
  const rel = await api("POST", `/api/v1/releases/${appId}/create`);
  const dep = await api("POST", `/api/v1/releases/${rel.body.release_id}/deploy`);
  const id = dep.body.deployment_id;
  // old replicas get SIGTERM and up to 3 s before SIGKILL (busybox httpd as PID 1 ignores SIGTERM)
  await until("the cleanup step", async () => {
    const d = await api("GET", `/api/v1/deployments/${id}/detail`);
    return d.body.deploy_step?.name === "cleanup" ? true : undefined;
  });
  await server!.stop({ signal: "SIGKILL", keep: true });
  // the old replicas were still there when the server died: the restart has to remove them
  expect((await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.service-id=${appId}`] } })).length).toBeGreaterThan(3);

  const again = await boot();
  const d = await again.api("GET", `/api/v1/deployments/${id}/detail`);
  expect(d.body.status).toBe("complete");
  const left = await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.service-id=${appId}`] } });
  expect(left.length).toBe(3);
  expect(left.every((c) => c.Labels["dev.ancla.deployment"] === id)).toBe(true);
  expect(await greeting(again.routerUrl)).toEqual({ status: 200, greeting: "during-cleanup" });
});
