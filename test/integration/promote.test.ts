// Promotion staging → production on the real Docker engine: the preview lists config names only,
// the promoted release runs the same image with production's config, the production service is
// created from staging's settings, a protected target refuses a member, bad input changes nothing.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { deployHarness, fixtureFiles, type DeployHarness } from "../fixtures/webapp/support";
import { snapshotDb } from "../support/app";
import { contextTar, testDocker } from "../support/docker";
import { waitForJob } from "../../src/jobs/queue";

// Docker builds and rollouts outlast bun's 5 s default; plain `bun test` passes no --timeout
setDefaultTimeout(300_000);

let h: DeployHarness;
const PROD_SECRET = "prod-token-" + crypto.randomUUID();
const STAGING_SECRET = "staging-token-" + crypto.randomUUID();
const envOf = (text: string, name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1];
let stagingRelease: { id: string; version: number };

const proj = () => `/api/v1/orgs/${h.org}/projects/web`;
const preview = (q: string, key = h.key) => h.t.req("GET", `${proj()}/promote/preview?${q}`, undefined, { key });

beforeAll(async () => {
  h = await deployHarness("pro");
  expect((await h.t.req("POST", `${proj()}/envs`, { name: "Staging", slug: "staging", env_type: "staging" }, { key: h.key })).status).toBe(201);
  await h.service("app", { process_counts: { web: 2 }, deployment_timeout: 40, port: 8000 }, "staging");
  await h.service("idle", {}, "staging");
  const envVar = async (env: string, name: string, value: string, secret = false) =>
    expect([200, 201]).toContain((await h.t.req("POST", `${proj()}/envs/${env}/config`, { name, value, secret }, { key: h.key })).status);
  await envVar("staging", "GREETING", "hello-staging");
  await envVar("staging", "API_TOKEN", STAGING_SECRET, true);
  await envVar("production", "GREETING", "hello-production");
  await envVar("production", "API_TOKEN", PROD_SECRET, true);
  await envVar("production", "PROD_ONLY", "yes");
  await h.setVar("app", "STAGING_ONLY", "1", false, "staging");
  const r = await h.t.req("POST", `${proj()}/pipeline/deploy?service=app&env=staging`, undefined, {
    key: h.key,
    raw: (await contextTar(fixtureFiles())) as unknown as BodyInit,
    headers: { "content-type": "application/x-tar" },
  });
  expect(r.status).toBe(201);
  const job = await waitForJob(h.t.deps, r.body.pipeline_id, 180_000);
  expect(job.error).toBeNull();
  const rel = (await h.t.req("GET", `${h.base("staging")}/app/releases/1`, undefined, { key: h.key })).body;
  stagingRelease = { id: rel.id, version: rel.version };
  expect(envOf((await h.get(h.host("app", "staging"), "/cgi-bin/env")).text, "GREETING")).toBe("hello-staging");
});
afterAll(async () => {
  await h?.close();
});

describe("promotion staging → production", () => {
  test("preview: config names added/removed/changed (no values), the source release version, target not there yet", async () => {
    const r = await preview("service=app&source_env=staging&target_env=production");
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({
      service: "app",
      source_env: "staging",
      target_env: "production",
      source_release_version: 1,
      target_exists: false,
      added: ["PROD_ONLY"],
      removed: ["STAGING_ONLY"],
      changed: ["API_TOKEN", "GREETING"],
      unchanged: 0,
    });
    expect(r.text).not.toContain("hello-production");
    expect(r.text).not.toContain(PROD_SECRET);
    expect(r.text).not.toContain(STAGING_SECRET);
  });

  test("bad input → clear 4xx, nothing written", async () => {
    const before = snapshotDb(h.t.deps);
    expect((await preview("service=app&source_env=staging&target_env=staging")).status).toBe(422);
    expect((await preview("service=nope&source_env=staging&target_env=production")).status).toBe(404);
    expect((await preview("service=app&source_env=staging&target_env=nowhere")).status).toBe(404);
    expect((await preview("service=app&source_env=staging")).status).toBe(422);
    const idle = await preview("service=idle&source_env=staging&target_env=production");
    expect(idle.status).toBe(409);
    expect(idle.body.message).toContain("no successful deployment");
    expect((await h.t.req("POST", `${proj()}/promote`, { service: "app", source_env: "staging" }, { key: h.key })).status).toBe(422);
    expect((await h.t.req("POST", `${proj()}/promote`, { service: "app", source_env: "staging", target_env: "production", extra: 1 }, { key: h.key })).status).toBe(422);
    expect((await h.t.req("POST", `${proj()}/promote`, { service: "idle", source_env: "staging", target_env: "production" }, { key: h.key })).status).toBe(409);
    expect((await h.t.req("POST", `${proj()}/promote`, undefined, {})).status).toBe(401);
    expect(snapshotDb(h.t.deps)).toBe(before);
  });

  test("protected production refuses a member (403, nothing written)", async () => {
    expect((await h.t.req("PATCH", `${proj()}/envs/production`, { protected: true }, { key: h.key })).status).toBe(200);
    const member = await h.t.user("promember");
    expect((await h.t.req("POST", `/api/v1/organizations/${h.org}/members`, { username: "promember" }, { key: h.key })).status).toBe(201);
    expect((await preview("service=app&source_env=staging&target_env=production", member.key)).status).toBe(200); // reading is fine
    const before = snapshotDb(h.t.deps);
    const r = await h.t.req("POST", `${proj()}/promote`, { service: "app", source_env: "staging", target_env: "production" }, { key: member.key });
    expect(r.status).toBe(403);
    expect(r.body.message).toContain("protected");
    expect(snapshotDb(h.t.deps)).toBe(before);
  });

  test("promote (org admin): production runs the same image with production's config; service created from staging's settings", async () => {
    const r = await h.t.req("POST", `${proj()}/promote`, { service: "app", source_env: "staging", target_env: "production" }, { key: h.key });
    expect(r.status).toBe(201);
    const id = r.body.id as string;
    expect(r.body).toMatchObject({ status: "pending", service: "app", source_env: "staging", target_env: "production", source_release_version: 1, target_release_version: 1, target_created: true });
    expect(r.body.config_changes).toEqual({ added: ["PROD_ONLY"], removed: ["STAGING_ONLY"], changed: ["API_TOKEN", "GREETING"] });

    const d = await h.waitDeployment(r.body.deployment_id);
    expect(d.error_detail).toBeNull();
    expect(d.status).toBe("complete");
    const done = await h.t.req("GET", `${proj()}/promotions/${id}`, undefined, { key: h.key });
    expect(done.body).toMatchObject({ id, status: "complete", error_detail: null });
    expect(done.body.finished).toEqual(expect.any(String));
    expect((await h.t.req("GET", `${proj()}/promotions`, undefined, { key: h.key })).body.map((p: { id: string }) => p.id)).toEqual([id]);

    const env = await h.get(h.host("app", "production"), "/cgi-bin/env");
    expect(env.status).toBe(200);
    expect(envOf(env.text, "GREETING")).toBe("hello-production");
    expect(envOf(env.text, "API_TOKEN")).toBe(PROD_SECRET);
    // staging keeps its own config
    expect(envOf((await h.get(h.host("app", "staging"), "/cgi-bin/env")).text, "GREETING")).toBe("hello-staging");

    // same image: the production release points at the staging release's image, and so do the containers
    const prodSvc = (await h.t.req("GET", `${h.base()}/app`, undefined, { key: h.key })).body;
    expect(prodSvc).toMatchObject({ process_counts: { web: 2 }, deployment_timeout: 40, port: 8000 });
    const prodRel = (await h.t.req("GET", `${h.base()}/app/releases/1`, undefined, { key: h.key })).body;
    const stagingRel = (await h.t.req("GET", `${h.base("staging")}/app/releases/1`, undefined, { key: h.key })).body;
    expect(prodRel.image.ref).toBe(stagingRel.image.ref);
    expect(prodRel.configuration).toMatchObject({ GREETING: "hello-production", API_TOKEN: "**secret**", PROD_ONLY: "yes" });
    const containers = await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${prodSvc.id}`] } });
    expect(containers.length).toBe(2);
    const staging = await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${stagingRel.application_id}`] } });
    expect(new Set(containers.map((c) => c.ImageID))).toEqual(new Set([staging[0]!.ImageID]));
  });

  test("promoting again reuses the production service (no second service, target_created false)", async () => {
    const p = await preview("service=app&source_env=staging&target_env=production");
    expect(p.body).toMatchObject({ target_exists: true, added: ["PROD_ONLY"], removed: ["STAGING_ONLY"], changed: ["API_TOKEN", "GREETING"] });
    const r = await h.t.req("POST", `${proj()}/promote`, { service: "app", source_env: "staging", target_env: "production" }, { key: h.key });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ target_created: false, target_release_version: 2 });
    expect((await h.waitDeployment(r.body.deployment_id)).status).toBe("complete");
    const list = (await h.t.req("GET", `${h.base()}`, undefined, { key: h.key })).body;
    expect(list.filter((s: { slug: string }) => s.slug === "app").length).toBe(1);
  });

  test("no secret value in any response", () => {
    expect(h.t.bodies.some((b) => b.includes(PROD_SECRET) || b.includes(STAGING_SECRET))).toBe(false);
  });
});
