// Promotion routes in process (no Docker, no worker: the target deployment stays queued and its
// status is moved by hand): preview names only, the promoted release's image and config, the
// target service created from the source's settings, statuses pending → deploying → complete|error,
// access and bad input that changes nothing.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { snapshotDb, testApp, type TestApp } from "../support/app";
import { insertRelease } from "../../src/modules/releases/repo";
import { insertDeployment, updateDeployment } from "../../src/modules/deployments/repo";
import { newId } from "../../src/lib/ids";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

let t: TestApp;
let owner: string;
let member: string;
let stranger: string;
const P = "/api/v1/orgs/acme/projects/web";
const STAGING_SECRET = "stg-" + crypto.randomUUID();
const PROD_SECRET = "prd-" + crypto.randomUUID();
const q = (o: Record<string, string>) => new URLSearchParams(o).toString();
const body = { service: "api2", source_env: "staging", target_env: "production" };

beforeAll(async () => {
  t = await testApp();
  owner = (await t.user("owner")).key;
  member = (await t.user("member")).key;
  stranger = (await t.user("stranger")).key;
  const ok = async (method: string, path: string, b: unknown, key = owner) => {
    const r = await t.req(method, path, b, { key });
    expect([path, r.status < 300]).toEqual([path, true]);
    return r.body;
  };
  await ok("POST", "/api/v1/organizations", { name: "acme", slug: "acme" });
  await ok("POST", "/api/v1/organizations/acme/members", { username: "member" });
  await ok("POST", "/api/v1/orgs/acme/projects", { name: "Web", slug: "web" });
  await ok("POST", `${P}/envs`, { name: "Staging", slug: "staging", env_type: "staging" });
  const svc = await ok("POST", `${P}/envs/staging/services`, { name: "api2", port: 9000, process_counts: { web: 2, worker: 1 }, health_check_path: "/up/", domains: ["api.example.test"] });
  await ok("POST", `${P}/config`, { name: "SHARED", value: "same" });
  await ok("POST", `${P}/envs/staging/config`, { name: "MODE", value: "staging" });
  await ok("POST", `${P}/envs/production/config`, { name: "MODE", value: "mode-prod-value" });
  await ok("POST", `${P}/envs/staging/config`, { name: "TOKEN", value: STAGING_SECRET, secret: true });
  await ok("POST", `${P}/envs/production/config`, { name: "TOKEN", value: PROD_SECRET, secret: true });
  await ok("POST", `${P}/envs/production/config`, { name: "PROD_ONLY", value: "1" });
  await ok("POST", `${P}/envs/staging/services/api2/config`, { name: "DEBUG", value: "1" });
  // a deployed release in staging (rows as the worker would leave them)
  const now = new Date().toISOString();
  const rel = insertRelease(t.deps.db, {
    id: newId(), serviceId: svc.id, version: 1, status: "complete", imageId: null, imageVersion: 4, imageRef: "sha256:" + "ab".repeat(32),
    repositoryName: "ancla/acme-web-staging-api2", tag: "v4", processes: { web: null, worker: "run-worker" }, config: [], port: 9000,
    healthCheckPath: "/up/", imageChanges: {}, configurationChanges: {}, createdAt: now, updatedAt: now,
  });
  insertDeployment(t.deps.db, { id: newId(), serviceId: svc.id, releaseId: rel.id, version: 1, status: "complete", metadata: {}, createdAt: now, updatedAt: now });
});
afterAll(() => t?.close());

describe("promote", () => {
  test("preview: names added/removed/changed, secret values never; target does not exist yet", async () => {
    const r = await t.req("GET", `${P}/promote/preview?${q(body)}`, undefined, { key: member });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      service: "api2",
      source_env: "staging",
      target_env: "production",
      source_release_id: expect.any(String),
      source_release_version: 1,
      image: { ref: "sha256:" + "ab".repeat(32), repository_name: "ancla/acme-web-staging-api2", tag: "v4", version: 4 },
      target_exists: false,
      added: ["PROD_ONLY"],
      removed: ["DEBUG"],
      changed: ["MODE", "TOKEN"],
      unchanged: 1,
      config_diff: { added: ["PROD_ONLY"], removed: ["DEBUG"], changed: ["MODE", "TOKEN"] },
    });
    expect(r.text).not.toContain(PROD_SECRET);
    expect(r.text).not.toContain(STAGING_SECRET);
    expect(r.text).not.toContain("mode-prod-value"); // names only, not even plain values
  });

  test("access: 401 without a key, 404 for a stranger, 403 for a member into a protected target; nothing written", async () => {
    expect((await t.req("GET", `${P}/promote/preview?${q(body)}`)).status).toBe(401);
    expect((await t.req("POST", `${P}/promote`, body)).status).toBe(401);
    expect((await t.req("GET", `${P}/promote/preview?${q(body)}`, undefined, { key: stranger })).status).toBe(404);
    expect((await t.req("POST", `${P}/promote`, body, { key: stranger })).status).toBe(404);
    expect((await t.req("PATCH", `${P}/envs/production`, { protected: true }, { key: owner })).status).toBe(200);
    const before = snapshotDb(t.deps);
    const r = await t.req("POST", `${P}/promote`, body, { key: member });
    expect(r.status).toBe(403);
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("bad input → 4xx, nothing written", async () => {
    const before = snapshotDb(t.deps);
    const cases: [unknown, number][] = [
      [{ ...body, target_env: "staging" }, 422],
      [{ ...body, service: "nope" }, 404],
      [{ ...body, source_env: "nope" }, 404],
      [{ service: "api2", source_env: "staging" }, 422],
      [{ ...body, service: 7 }, 422],
      [{ ...body, extra: true }, 422],
    ];
    for (const [b, status] of cases) expect([b, (await t.req("POST", `${P}/promote`, b, { key: owner })).status]).toEqual([b, status]);
    expect((await t.req("POST", `${P}/promote`, undefined, { key: owner, raw: "{nope", headers: { "content-type": "application/json" } })).status).toBe(400);
    expect((await t.req("GET", `${P}/promote/preview?service=api2`, undefined, { key: owner })).status).toBe(422);
    expect((await t.req("GET", `${P}/promotions/nope`, undefined, { key: owner })).status).toBe(404);
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("promote (org admin): target service from the source's settings, a release with the same image and the target's config; statuses follow the deployment", async () => {
    const r = await t.req("POST", `${P}/promote`, body, { key: owner });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ status: "pending", service: "api2", source_release_version: 1, target_release_version: 1, target_created: true, error_detail: null, finished: null });
    const id = r.body.id as string;
    const deploymentId = r.body.deployment_id as string;
    const svc = (await t.req("GET", `${P}/envs/production/services/api2`, undefined, { key: owner })).body;
    expect(svc).toMatchObject({ port: 9000, process_counts: { web: 2, worker: 1 }, health_check_path: "/up/", domains: [] });
    const rel = (await t.req("GET", `${P}/envs/production/services/api2/releases/1`, undefined, { key: owner })).body;
    expect(rel.image).toMatchObject({ ref: "sha256:" + "ab".repeat(32), tag: "v4", processes: { web: null, worker: "run-worker" } });
    expect(rel.configuration).toEqual({ SHARED: "same", MODE: "mode-prod-value", TOKEN: "**secret**", PROD_ONLY: "1" });

    updateDeployment(t.deps.db, deploymentId, { status: "running" });
    expect((await t.req("GET", `${P}/promotions/${id}`, undefined, { key: member })).body.status).toBe("deploying");
    updateDeployment(t.deps.db, deploymentId, { status: "complete", finishedAt: new Date().toISOString() });
    const done = (await t.req("GET", `${P}/promotions/${id}`, undefined, { key: member })).body;
    expect(done).toMatchObject({ status: "complete", finished: expect.any(String) });
    expect((await t.req("GET", `${P}/promotions`, undefined, { key: member })).body.map((p: { id: string }) => p.id)).toEqual([id]);
  });

  test("a failed target deployment makes the promotion error with its reason", async () => {
    const r = await t.req("POST", `${P}/promote`, body, { key: owner });
    expect(r.body).toMatchObject({ target_created: false, target_release_version: 2 });
    updateDeployment(t.deps.db, r.body.deployment_id, { status: "error", errorDetail: "Health check timed out", finishedAt: new Date().toISOString() });
    expect((await t.req("GET", `${P}/promotions/${r.body.id}`, undefined, { key: owner })).body).toMatchObject({ status: "error", error_detail: "Health check timed out" });
  });

  test("no secret value in any response", () => {
    expect(t.bodies.some((b) => b.includes(PROD_SECRET) || b.includes(STAGING_SECRET))).toBe(false);
  });
});
