// Releases and deploys on the real Docker engine, reached through the router on 127.0.0.1:
// config in the container env, redeploy, rollback, failed health check, scale, protected envs.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { deployHarness, type DeployHarness } from "../fixtures/webapp/support";
import { snapshotDb } from "../support/app";
import { testDocker } from "../support/docker";
import { referenceProblems } from "../support/reference-schema";

// Docker builds and rollouts outlast bun's 5 s default; plain `bun test` (README, CI) passes no --timeout
setDefaultTimeout(300_000);

let h: DeployHarness;
let apiId: string;
const SECRET = "tok-" + crypto.randomUUID();

beforeAll(async () => {
  h = await deployHarness("dep");
  apiId = await h.service("app", { process_counts: { web: 1, worker: 1 }, deployment_timeout: 30 });
  await h.setVar("app", "GREETING", "hello-one");
  await h.setVar("app", "API_TOKEN", SECRET, true);
});

afterAll(async () => {
  await h?.close();
});

const envOf = (text: string, name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1];

describe("release and deploy", () => {
  let r1: { release_id: string; version: number };
  let r2: { release_id: string; version: number };

  test("no built image → 409 with a message, nothing created", async () => {
    const before = snapshotDb(h.t.deps);
    const r = await h.t.req("POST", `/api/v1/releases/${apiId}/create`, undefined, { key: h.key });
    expect(r.status).toBe(409);
    expect(r.body.message).toContain("no built image");
    expect(snapshotDb(h.t.deps)).toBe(before);
  });

  test("build → release v1 (config snapshot, secret masked) → deploy → served through the router with its config", async () => {
    await h.build("app");
    r1 = await h.release(apiId);
    expect(r1.version).toBe(1);
    const detail = await h.t.req("GET", `/api/v1/releases/${r1.release_id}/detail`, undefined, { key: h.key });
    expect(detail.status).toBe(200);
    expect(detail.body.configuration).toEqual({ API_TOKEN: "**secret**", GREETING: "hello-one" });
    expect(detail.body.configuration_changes).toMatchObject({ added: ["API_TOKEN", "GREETING"], removed: [], changed: [] });
    expect(JSON.stringify(detail.body.configuration_changes)).not.toContain(SECRET);
    expect(detail.body.image.processes).toEqual({ web: expect.any(String), worker: expect.any(String) });

    const d = await h.deploy(r1.release_id);
    expect(d.error_detail).toBeNull();
    expect(d.status).toBe("complete");
    expect(d.deploy_step).toMatchObject({ name: "cleanup", index: 5, total: 5 });

    const page = await h.get(h.host("app"));
    expect(page.status).toBe(200);
    expect(page.text).toContain("hello from the webapp");
    const env = await h.get(h.host("app"), "/cgi-bin/env");
    expect(env.status).toBe(200);
    expect(envOf(env.text, "GREETING")).toBe("hello-one");
    expect(envOf(env.text, "API_TOKEN")).toBe(SECRET); // decrypted into the container env only
    expect(envOf(env.text, "PORT")).toBe("8000");
    // the default environment's short hostname works too
    expect((await h.get(`app.web.${h.org}.localhost`, "/")).status).toBe(200);
  });

  test("containers: labels, pod-class limits, restart policy, web published on 127.0.0.1 only, worker running", async () => {
    const list = await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${apiId}`] } });
    const byProcess = Object.fromEntries(list.map((c) => [c.Labels["dev.ancla.process"], c]));
    expect(Object.keys(byProcess).sort()).toEqual(["web", "worker"]);
    const web = await testDocker().getContainer(byProcess.web!.Id).inspect();
    expect(web.Config.Labels).toMatchObject({
      "dev.ancla.managed": "true",
      "dev.ancla.org": h.org,
      "dev.ancla.project": "web",
      "dev.ancla.env": "production",
      "dev.ancla.service": "app",
      "dev.ancla.release": r1.release_id,
      "dev.ancla.version": "1",
      "dev.ancla.process": "web",
      "dev.ancla.replica": "1",
    });
    expect(web.HostConfig.RestartPolicy?.Name).toBe("unless-stopped");
    expect(web.HostConfig.NanoCpus).toBe(0.5e9);
    expect(web.HostConfig.Memory).toBe(512 * 1024 * 1024);
    expect(web.NetworkSettings.Ports["8000/tcp"]!.every((b) => b.HostIp === "127.0.0.1")).toBe(true);
    const network = `ancla-net-${(await h.t.req("GET", `/api/v1/orgs/${h.org}/projects/web`, undefined, { key: h.key })).body.id}`;
    expect(Object.keys(web.NetworkSettings.Networks)).toEqual([network]);
    expect(web.NetworkSettings.Networks[network]!.Aliases).toContain("app.production");
    const worker = await testDocker().getContainer(byProcess.worker!.Id).inspect();
    expect(worker.State.Running).toBe(true);
    expect(worker.HostConfig.PortBindings ?? {}).toEqual({});
  });

  test("change the var → release v2 lists the change → redeploy serves the new value, old replicas gone", async () => {
    const before = await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${apiId}`] } });
    await h.setVar("app", "GREETING", "hello-two");
    r2 = await h.release(apiId);
    expect(r2.version).toBe(2);
    const detail = await h.t.req("GET", `/api/v1/releases/${r2.release_id}/detail`, undefined, { key: h.key });
    expect(detail.body.configuration_changes).toMatchObject({ added: [], removed: [], changed: ["GREETING"], values: { GREETING: { from: "hello-one", to: "hello-two" } } });
    const d = await h.deploy(r2.release_id);
    expect(d.status).toBe("complete");
    expect(envOf((await h.get(h.host("app"), "/cgi-bin/env")).text, "GREETING")).toBe("hello-two");
    const after = await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.service-id=${apiId}`] } });
    expect(after.length).toBe(2);
    expect(after.some((c) => before.some((b) => b.Id === c.Id))).toBe(false);
  });

  test("rollback: deploying release v1 again serves the old value", async () => {
    const d = await h.deploy(r1.release_id);
    expect(d.status).toBe("complete");
    expect(d.release.version).toBe(1);
    expect(envOf((await h.get(h.host("app"), "/cgi-bin/env")).text, "GREETING")).toBe("hello-one");
  });

  test("a release whose health check fails: deployment error with the reason, new replicas removed, previous release still serving", async () => {
    // health path that the app does not serve, short timeout
    expect((await h.t.req("PATCH", `${h.base()}/app`, { health_check_path: "/missing/", deployment_timeout: 10 }, { key: h.key })).status).toBe(200);
    const bad = await h.release(apiId);
    const before = (await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${apiId}`] } })).map((c) => c.Id).sort();
    const d = await h.deploy(bad.release_id);
    expect(d.status).toBe("error");
    expect(d.error_detail).toContain("Health check timed out");
    expect(d.error_detail).toContain("/missing/");
    expect(d.deploy_log).toContain("Deployment failed");
    const after = (await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.service-id=${apiId}`] } })).map((c) => c.Id).sort();
    expect(after).toEqual(before);
    expect(envOf((await h.get(h.host("app"), "/cgi-bin/env")).text, "GREETING")).toBe("hello-one");
    expect((await h.t.req("PATCH", `${h.base()}/app`, { health_check_path: "/_health/", deployment_timeout: 30 }, { key: h.key })).status).toBe(200);
  });

  test("hierarchical routes: releases list, release by version and its log, deploy by version, env deployments", async () => {
    const list = await h.t.req("GET", `${h.base()}/app/releases`, undefined, { key: h.key });
    expect(list.status).toBe(200);
    expect(list.body.map((r: { version: number }) => r.version)).toEqual([3, 2, 1]);
    const v2 = await h.t.req("GET", `${h.base()}/app/releases/2`, undefined, { key: h.key });
    expect(v2.body).toMatchObject({ id: r2.release_id, version: 2, application_id: apiId });
    const log = await h.t.req("GET", `${h.base()}/app/releases/2/log`, undefined, { key: h.key });
    expect(log.body).toMatchObject({ status: "complete", version: 2, error: false });
    expect(log.body.log_text).toContain("Release v2");
    expect((await h.t.req("GET", `${h.base()}/app/releases/99`, undefined, { key: h.key })).status).toBe(404);
    expect((await h.t.req("POST", `${h.base()}/app/deploy`, { version: 99 }, { key: h.key })).status).toBe(404);
    expect((await h.t.req("POST", `${h.base()}/app/deploy`, { version: "two" }, { key: h.key })).status).toBe(422);

    const dep = await h.t.req("POST", `${h.base()}/app/deploy`, { version: 2 }, { key: h.key });
    expect(dep.status).toBe(201);
    expect((await h.waitDeployment(dep.body.deployment_id)).status).toBe("complete");
    expect(envOf((await h.get(h.host("app"), "/cgi-bin/env")).text, "GREETING")).toBe("hello-two");

    const envList = await h.t.req("GET", `/api/v1/orgs/${h.org}/projects/web/envs/production/deployments`, undefined, { key: h.key });
    expect(envList.status).toBe(200);
    expect(envList.body[0].id).toBe(dep.body.deployment_id);
    const one = await h.t.req("GET", `/api/v1/orgs/${h.org}/projects/web/envs/production/deployments/${dep.body.deployment_id}`, undefined, { key: h.key });
    expect(one.body).toMatchObject({ id: dep.body.deployment_id, complete: true });
    const dlog = await h.t.req("GET", `/api/v1/orgs/${h.org}/projects/web/envs/production/deployments/${dep.body.deployment_id}/log`, undefined, { key: h.key });
    expect(dlog.body.status).toBe("complete");
    expect(dlog.body.log_text).toContain("Traffic switched");

    const paged = await h.t.req("GET", `/api/v1/applications/${apiId}/deployments?per_page=2`, undefined, { key: h.key });
    expect(paged.body.pagination).toEqual({ page: 1, per_page: 2, total: 5, total_pages: 3 });
    const byPath = await h.t.req("GET", `/api/v1/releases/${h.org}/web/app?per_page=1&page=2`, undefined, { key: h.key });
    expect(byPath.body.items.map((r: { version: number }) => r.version)).toEqual([2]);
  });

  test("scale web to 3: three distinct replicas answer through the router; worker to 0 stops it; no new release", async () => {
    const releasesBefore = (await h.t.req("GET", `${h.base()}/app/releases`, undefined, { key: h.key })).body.length;
    const r = await h.t.req("POST", `/api/v1/applications/${apiId}/scale`, { process_counts: { web: 3, worker: 0 } }, { key: h.key });
    expect(r.status).toBe(201);
    expect(r.body.process_counts).toMatchObject({ web: 3, worker: 0 });
    const list = await h.t.req("GET", `/api/v1/applications/${apiId}/deployments`, undefined, { key: h.key });
    const scale = list.body.items[0];
    expect(scale.kind).toBe("scale");
    const done = await h.waitDeployment(scale.id);
    expect(done.error_detail).toBeNull();
    expect(done.status).toBe("complete");
    const hostnames = new Set<string>();
    for (let i = 0; i < 9; i++) {
      const res = await h.get(h.host("app"), "/cgi-bin/env");
      expect(res.status).toBe(200);
      expect(envOf(res.text, "GREETING")).toBe("hello-two"); // same release as before
      hostnames.add(envOf(res.text, "HOSTNAME")!);
    }
    expect(hostnames.size).toBe(3);
    const running = await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${apiId}`] } });
    expect(running.map((c) => c.Labels["dev.ancla.process"]).sort()).toEqual(["web", "web", "web"]);
    expect((await h.t.req("GET", `${h.base()}/app/releases`, undefined, { key: h.key })).body.length).toBe(releasesBefore);

    // back to one web replica: the kept one is replica 1, the others are removed
    const down = await h.t.req("POST", `/api/v1/applications/${apiId}/scale`, { process_counts: { web: 1 } }, { key: h.key });
    expect(down.status).toBe(201);
    const d2 = (await h.t.req("GET", `/api/v1/applications/${apiId}/deployments`, undefined, { key: h.key })).body.items[0];
    expect((await h.waitDeployment(d2.id)).status).toBe("complete");
    const after = await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.service-id=${apiId}`] } });
    expect(after.length).toBe(1);
    expect(running.map((c) => c.Id)).toContain(after[0]!.Id);
    expect((await h.get(h.host("app"))).status).toBe(200);
  });

  test("scale with bad input → 422 and nothing changes", async () => {
    const before = snapshotDb(h.t.deps);
    expect((await h.t.req("POST", `/api/v1/applications/${apiId}/scale`, { process_counts: { web: -1 } }, { key: h.key })).status).toBe(422);
    expect((await h.t.req("POST", `/api/v1/applications/${apiId}/scale`, { process_pod_classes: { web: "huge" } }, { key: h.key })).status).toBe(422);
    expect(snapshotDb(h.t.deps)).toBe(before);
  });

  test("application detail and list show the latest release and deployment", async () => {
    const detail = await h.t.req("GET", `/api/v1/applications/${h.org}/web/app`, undefined, { key: h.key });
    expect(detail.status).toBe(200);
    expect(detail.body.latest_release).toMatchObject({ version: 3, application_id: apiId, configuration: { API_TOKEN: "**secret**" } });
    expect(detail.body.latest_deployment).toMatchObject({ application_id: apiId, complete: true, kind: "scale" });
    const list = await h.t.req("GET", `/api/v1/applications/${h.org}/web`, undefined, { key: h.key });
    expect(list.body.find((a: { id: string }) => a.id === apiId)).toMatchObject({ latest_release_version: 3, latest_deployment_complete: true });
  });

  test("changing a pod class through scale replaces those replicas with the new limits", async () => {
    const r = await h.t.req("POST", `/api/v1/applications/${apiId}/scale`, { process_pod_classes: { web: "nano" } }, { key: h.key });
    expect(r.status).toBe(201);
    const d = (await h.t.req("GET", `/api/v1/applications/${apiId}/deployments`, undefined, { key: h.key })).body.items[0];
    expect((await h.waitDeployment(d.id)).status).toBe("complete");
    const [web] = await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${apiId}`] } });
    const info = await testDocker().getContainer(web!.Id).inspect();
    expect(info.HostConfig.Memory).toBe(256 * 1024 * 1024);
    expect(info.HostConfig.NanoCpus).toBe(0.25e9);
    expect((await h.get(h.host("app"))).status).toBe(200);
  });

  test("a release whose web process crashes: error with its exit code and output, the secret it printed redacted", async () => {
    const { fixtureFiles } = await import("../fixtures/webapp/support");
    await h.build("app", fixtureFiles({ Procfile: 'web: echo "starting with token $API_TOKEN"; exit 3\n' }));
    const rel = await h.release(apiId);
    const d = await h.deploy(rel.release_id);
    expect(d.status).toBe("error");
    expect(d.error_detail).toMatch(/web replica 1 (exited with code 3|exited and was restarted \d+ time)/);
    expect(d.error_detail).toContain("starting with token");
    expect(d.error_detail).not.toContain(SECRET);
    expect(d.deploy_log).toContain("starting with token");
    expect(d.deploy_log).not.toContain(SECRET);
    const log = await h.t.req("GET", `/api/v1/deployments/${d.id}/log`, undefined, { key: h.key });
    expect(log.body.error_detail).not.toContain(SECRET);
    // still serving the previous release
    expect(envOf((await h.get(h.host("app"), "/cgi-bin/env")).text, "GREETING")).toBe("hello-two");
  });

  test("responses match the reference contract shapes", async () => {
    const get = async (path: string) => (await h.t.req("GET", path, undefined, { key: h.key })).body;
    const releases = await get(`/api/v1/releases/${apiId}`);
    expect(referenceProblems("ReleaseListResponse", releases)).toEqual([]);
    for (const r of releases.items) expect(referenceProblems("ReleaseSummary", r)).toEqual([]);
    expect(referenceProblems("ReleaseDetail", await get(`/api/v1/releases/${r1.release_id}/detail`))).toEqual([]);
    expect(referenceProblems("ReleaseLogResponse", await get(`/api/v1/releases/${r1.release_id}/log`))).toEqual([]);
    const deployments = await get(`/api/v1/applications/${apiId}/deployments`);
    expect(referenceProblems("DeploymentListResponse", deployments)).toEqual([]);
    const id = deployments.items[0].id;
    expect(referenceProblems("DeploymentDetail", await get(`/api/v1/deployments/${id}/detail`))).toEqual([]);
    expect(referenceProblems("DeploymentLogResponse", await get(`/api/v1/deployments/${id}/log`))).toEqual([]);
    const created = await h.t.req("POST", `/api/v1/releases/${apiId}/create`, undefined, { key: h.key });
    expect(referenceProblems("ReleaseCreateResponse", created.body)).toEqual([]);
    const dep = await h.t.req("POST", `/api/v1/releases/${r2.release_id}/deploy`, undefined, { key: h.key });
    expect(referenceProblems("ReleaseDeployResponse", dep.body)).toEqual([]);
    expect((await h.waitDeployment(dep.body.deployment_id)).status).toBe("complete");
  });

  test("no secret value in any response", () => {
    expect(h.t.bodies.some((b) => b.includes(SECRET))).toBe(false);
  });
});

describe("protected environment", () => {
  test("deploy, rollback and scale need an org admin (403 for a member, nothing changes); the admin may", async () => {
    const env = await h.t.req("POST", `/api/v1/orgs/${h.org}/projects/web/envs`, { name: "Live", slug: "live", env_type: "production", protected: true }, { key: h.key });
    expect(env.status).toBe(201);
    const liveId = await h.service("site", {}, "live");
    await h.build("site", undefined, "live");
    const rel = await h.release(liveId);
    const member = await h.t.user("depmember");
    expect((await h.t.req("POST", `/api/v1/organizations/${h.org}/members`, { username: "depmember" }, { key: h.key })).status).toBe(201);

    // a member may read (and this first use stamps the key, which is not what the snapshot is about)
    expect((await h.t.req("GET", `/api/v1/releases/${rel.release_id}/detail`, undefined, { key: member.key })).status).toBe(200);
    const before = snapshotDb(h.t.deps);
    const a = await h.t.req("POST", `/api/v1/releases/${rel.release_id}/deploy`, undefined, { key: member.key });
    expect(a.status).toBe(403);
    expect(a.body.message).toContain("protected");
    expect((await h.t.req("POST", `${h.base("live")}/site/deploy`, {}, { key: member.key })).status).toBe(403);
    expect((await h.t.req("POST", `/api/v1/applications/${liveId}/scale`, { process_counts: { web: 2 } }, { key: member.key })).status).toBe(403);
    expect(snapshotDb(h.t.deps)).toBe(before);

    const d = await h.deploy(rel.release_id); // the owner is an org admin
    expect(d.status).toBe("complete");
    expect((await h.get(h.host("site", "live"))).status).toBe(200);
    // not the default environment: no short hostname
    expect((await h.get(`site.web.${h.org}.localhost`)).status).toBe(404);
  });

  test("a stranger sees 404 for releases and deployments; no key → 401", async () => {
    const stranger = await h.t.user("depstranger");
    const list = await h.t.req("GET", `/api/v1/applications/${apiId}/deployments`, undefined, { key: h.key });
    const id = list.body.items[0].id;
    expect((await h.t.req("GET", `/api/v1/deployments/${id}/detail`, undefined, { key: stranger.key })).status).toBe(404);
    expect((await h.t.req("GET", `/api/v1/deployments/${id}/log`, undefined, { key: stranger.key })).status).toBe(404);
    expect((await h.t.req("GET", `/api/v1/releases/${apiId}`, undefined, { key: stranger.key })).status).toBe(404);
    expect((await h.t.req("POST", `/api/v1/releases/${apiId}/create`, undefined, { key: stranger.key })).status).toBe(404);
    expect((await h.t.req("GET", `/api/v1/deployments/${id}/detail`)).status).toBe(401);
    expect((await h.t.req("GET", `/api/v1/deployments/${crypto.randomUUID()}/detail`, undefined, { key: h.key })).status).toBe(404);
  });
});
