import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { orgsWorld, snapshotDb, testApp, type TestApp, type TestUser } from "../support/app";
import { referenceProblems } from "../support/reference-schema";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

let t: TestApp;
type U = TestUser;
let owner: U, member: U, outsider: U;
let projectId: string;
const A = "/api/v1/applications";

beforeEach(async () => {
  t = await testApp();
  const w = await orgsWorld(t, { project: true });
  ({ owner, member, outsider } = w);
  projectId = w.projectId!;
});
afterEach(() => t.close());

const newApp = async (name: string, key = member.key) => {
  const r = await t.req("POST", `${A}/acme/web`, { name }, { key });
  expect(r.status).toBe(201);
  return r.body as { id: string; slug: string };
};

describe("applications", () => {
  test("POST /applications creates a service in the project's default environment (ApplicationDetail)", async () => {
    const r = await t.req("POST", A, { name: "Backend", slug: "backend", project_id: projectId, platform: "diesel" }, { key: member.key });
    expect(r.status).toBe(201);
    expect(referenceProblems("ApplicationDetail", r.body)).toEqual([]);
    expect(r.body).toMatchObject({ slug: "backend", platform: "diesel", project_id: projectId, project_slug: "web", organization_slug: "acme", environment_slug: "production" });
    const viaEnv = await t.req("GET", "/api/v1/orgs/acme/projects/web/envs/production/services/backend", undefined, { key: member.key });
    expect(viaEnv.body.id).toBe(r.body.id);
  });

  test("POST /applications/{org}/{project} with {name[, slug, platform]}; list shows only the default environment", async () => {
    const r = await t.req("POST", `${A}/acme/web`, { name: "Frontend App", platform: "electric" }, { key: member.key });
    expect(r).toMatchObject({ status: 201, body: { slug: "frontend-app", platform: "electric" } });
    await t.req("POST", `${A}/acme/web/`, { name: "b", slug: "bee" }, { key: member.key });
    await t.req("POST", "/api/v1/orgs/acme/projects/web/envs", { name: "staging" }, { key: member.key });
    await t.req("POST", "/api/v1/orgs/acme/projects/web/envs/staging/services", { name: "not-listed" }, { key: member.key });
    const list = await t.req("GET", `${A}/acme/web`, undefined, { key: member.key });
    expect(list.status).toBe(200);
    expect(list.body.map((a: { slug: string }) => a.slug)).toEqual(["bee", "frontend-app"]);
    for (const a of list.body) expect(referenceProblems("ApplicationSummary", a)).toEqual([]);
    expect(list.body[1]).toMatchObject({ latest_image_version: null, latest_release_version: null, latest_deployment_complete: null, project_id: projectId });
    expect((await t.req("GET", `${A}/acme/web/`, undefined, { key: member.key })).body).toHaveLength(2);
  });

  test("get, patch and delete by {org}/{project}/{app}", async () => {
    const app = await newApp("svc-a");
    const g = await t.req("GET", `${A}/acme/web/svc-a`, undefined, { key: member.key });
    expect(g.body.id).toBe(app.id);
    expect(referenceProblems("ApplicationDetail", g.body)).toEqual([]);
    const p = await t.req("PATCH", `${A}/acme/web/svc-a`, { name: "Service A", port: 5000, domains: ["a.example.org"] }, { key: member.key });
    expect(p.body).toMatchObject({ name: "Service A", port: 5000, domains: ["a.example.org"] });
    expect((await t.req("DELETE", `${A}/acme/web/svc-a`, undefined, { key: member.key })).body).toEqual({ ok: true });
    expect((await t.req("GET", `${A}/acme/web/svc-a`, undefined, { key: member.key })).status).toBe(404);
  });

  test("PATCH settings by service id and by path form; id works for any environment", async () => {
    const app = await newApp("svc-a");
    const byId = await t.req("PATCH", `${A}/${app.id}/settings`, { github_repository: "acme/svc-a", auto_deploy_branch: "main", deployment_timeout: 300, health_check_path: "/up", github_repository_is_private: true }, { key: member.key });
    expect(byId.status).toBe(200);
    expect(referenceProblems("ApplicationDetail", byId.body)).toEqual([]);
    expect(byId.body).toMatchObject({ github_repository: "acme/svc-a", auto_deploy_branch: "main", deployment_timeout: 300, health_check_path: "/up", github_repository_is_private: true });
    const byPath = await t.req("PATCH", `${A}/acme/web/svc-a/settings`, { health_check_host: "svc.internal", github_repository: null, github_repository_is_private: null }, { key: member.key });
    expect(byPath.body).toMatchObject({ health_check_host: "svc.internal", github_repository: null, github_repository_is_private: false, deployment_timeout: 300 });
    await t.req("POST", "/api/v1/orgs/acme/projects/web/envs", { name: "staging" }, { key: member.key });
    const staged = (await t.req("POST", "/api/v1/orgs/acme/projects/web/envs/staging/services", { name: "st" }, { key: member.key })).body;
    expect((await t.req("PATCH", `${A}/${staged.id}/settings`, { subdirectory: "apps/st" }, { key: member.key })).body).toMatchObject({ subdirectory: "apps/st", environment_slug: "staging" });
    // the path form means the default environment only
    expect((await t.req("PATCH", `${A}/acme/web/st/settings`, { subdirectory: "x" }, { key: member.key })).status).toBe(404);
    // settings take every field of the service (they used to drop the others silently); an unknown one is a 422
    expect((await t.req("PATCH", `${A}/${app.id}/settings`, { port: 5001 }, { key: member.key })).body.port).toBe(5001);
    expect((await t.req("PATCH", `${A}/${app.id}/settings`, { prot: 1 }, { key: member.key })).status).toBe(422);
  });

  test("POST scale by id and by path form merges counts and pod classes (201 ApplicationDetail)", async () => {
    const app = await newApp("svc-a");
    const s1 = await t.req("POST", `${A}/${app.id}/scale`, { process_counts: { web: 3, worker: 2 } }, { key: member.key });
    expect(s1.status).toBe(201);
    expect(referenceProblems("ApplicationDetail", s1.body)).toEqual([]);
    expect(s1.body).toMatchObject({ process_counts: { web: 3, worker: 2 }, process_pod_classes: { web: "small" } });
    const s2 = await t.req("POST", `${A}/acme/web/svc-a/scale`, { process_counts: { worker: 0 }, process_pod_classes: { worker: "large" } }, { key: member.key });
    expect(s2.status).toBe(201);
    expect(s2.body).toMatchObject({ process_counts: { web: 3, worker: 0 }, process_pod_classes: { web: "small", worker: "large" } });
    expect((await t.req("GET", `${A}/acme/web/svc-a`, undefined, { key: member.key })).body.process_counts).toEqual({ web: 3, worker: 0 });
  });

  test("scale into a protected environment needs an org admin", async () => {
    const app = await newApp("svc-a");
    await t.req("PATCH", "/api/v1/orgs/acme/projects/web/envs/production", { protected: true }, { key: owner.key });
    const before = snapshotDb(t.deps);
    expect((await t.req("POST", `${A}/${app.id}/scale`, { process_counts: { web: 0 } }, { key: member.key })).status).toBe(403);
    expect(snapshotDb(t.deps)).toBe(before);
    expect((await t.req("POST", `${A}/${app.id}/scale`, { process_counts: { web: 0 } }, { key: owner.key })).status).toBe(201);
  });

  test("a project named 'scale' still gets its applications created and listed", async () => {
    await t.req("POST", "/api/v1/projects/acme", { name: "scale" }, { key: owner.key });
    const r = await t.req("POST", `${A}/acme/scale`, { name: "inside" }, { key: member.key });
    expect(r).toMatchObject({ status: 201, body: { slug: "inside", project_slug: "scale" } });
    expect((await t.req("GET", `${A}/acme/scale`, undefined, { key: member.key })).body.map((a: { slug: string }) => a.slug)).toEqual(["inside"]);
    const bad = await t.req("POST", `${A}/acme/scale`, { process_counts: { web: 1 } }, { key: member.key });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toStartWith("name:");
  });

  test("a project named 'deploy' gets its applications created from JSON and from a form, as other projects do", async () => {
    await t.req("POST", "/api/v1/projects/acme", { name: "deploy" }, { key: owner.key });
    const json = await t.req("POST", `${A}/acme/deploy`, { name: "from-json" }, { key: member.key });
    expect(json).toMatchObject({ status: 201, body: { slug: "from-json", project_slug: "deploy" } });
    // the route also takes archives, so the server's form parser leaves it alone: it reads the form itself
    const form = await t.req("POST", `${A}/acme/deploy`, undefined, { key: member.key, raw: "name=from-form", headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(form).toMatchObject({ status: 201, body: { slug: "from-form", project_slug: "deploy" } });
    const bad = await t.req("POST", `${A}/acme/deploy`, undefined, { key: member.key, raw: "{not json", headers: { "content-type": "application/json" } });
    expect([bad.status, bad.body.message]).toEqual([400, "Malformed JSON body."]);
  });

  test("no credentials → 401 on every route, nothing changes", async () => {
    const app = await newApp("svc-a");
    const before = snapshotDb(t.deps);
    for (const [m, p, b] of routes(app.id)) expect([m, p, (await t.req(m, p, b)).status]).toEqual([m, p, 401]);
    expect((await t.req("POST", `${A}/${app.id}/scale`, { process_counts: { web: 99 } })).status).toBe(401);
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("another organization's applications → 404 on every route (by id and by path), nothing changes", async () => {
    const app = await newApp("svc-a");
    const before = snapshotDb(t.deps);
    for (const [m, p, b] of routes(app.id)) expect([m, p, (await t.req(m, p, b, { key: outsider.key })).status]).toEqual([m, p, 404]);
    const ghost = "0190a0b0-0000-7000-8000-000000000000";
    expect((await t.req("PATCH", `${A}/${ghost}/settings`, {}, { key: member.key })).status).toBe(404);
    expect((await t.req("POST", `${A}/${ghost}/scale`, { process_counts: { web: 1 } }, { key: member.key })).status).toBe(404);
    expect((await t.req("POST", A, { name: "x", project_id: ghost }, { key: member.key })).status).toBe(404);
    expect((await t.req("GET", `${A}/acme/nope`, undefined, { key: member.key })).status).toBe(404);
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("bad input → 4xx, nothing changes", async () => {
    const app = await newApp("svc-a");
    const before = snapshotDb(t.deps);
    const creates: unknown[] = [{}, { name: "x" }, { project_id: projectId }, { name: 1, project_id: projectId }, { name: "x", project_id: projectId, platform: "coal" }, { name: "x", project_id: projectId, slug: "Bad" }, { name: "x", project_id: projectId, slug: "0190a0b0-0000-7000-8000-000000000000" }, { name: "\u0001", project_id: projectId }];
    for (const body of creates) expect([body, (await t.req("POST", A, body, { key: member.key })).status]).toEqual([body, 422]);
    const scales: unknown[] = [{}, { process_counts: { web: 21 } }, { process_counts: { web: -1 } }, { process_counts: { "UP": 1 } }, { process_pod_classes: { web: "xl" } }, { process_counts: [1] }, { process_counts: { web: 1.5 } }];
    for (const body of scales) {
      expect([body, (await t.req("POST", `${A}/${app.id}/scale`, body, { key: member.key })).status]).toEqual([body, 422]);
      expect([body, (await t.req("POST", `${A}/acme/web/svc-a/scale`, body, { key: member.key })).status]).toEqual([body, 422]);
    }
    const settings: unknown[] = [{ deployment_timeout: 5 }, { health_check_path: "no-slash" }, { github_repository: "x" }, { auto_deploy_branch: "-x" }, { subdirectory: "../up" }, { github_app_installation_id: "1" }];
    for (const body of settings) expect([body, (await t.req("PATCH", `${A}/${app.id}/settings`, body, { key: member.key })).status]).toEqual([body, 422]);
    const malformed = await t.req("POST", `${A}/${app.id}/scale`, undefined, { key: member.key, raw: "{x", headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("listing stays indexed with 10,000 services in the database", async () => {
    const small = (await t.req("POST", "/api/v1/projects/acme", { name: "Small" }, { key: owner.key })).body;
    seedServices(small.id, 10);
    const projects: string[] = [];
    for (let i = 0; i < 99; i++) projects.push((await t.req("POST", "/api/v1/projects/acme", { name: `p${i}` }, { key: owner.key })).body.id);
    t.deps.sqlite.transaction(() => projects.forEach((id) => seedServices(id, 100)))();
    expect(t.deps.sqlite.query("select count(*) as n from services").get()).toEqual({ n: 9910 });
    const plan = t.deps.sqlite.query("explain query plan select id from services where env_id = ? order by slug").all() as { detail: string }[];
    expect(plan.map((p) => p.detail).join(";")).toContain("USING INDEX services_env_slug_idx");
    // the lists answer with exactly their project's rows; speed is measured by scripts/bench/api-scale.ts,
    // never by a timed assertion that a busy machine could fail
    expect((await t.req("GET", `${A}/acme/p50`, undefined, { key: owner.key })).body).toHaveLength(100);
    expect((await t.req("GET", `${A}/acme/small`, undefined, { key: owner.key })).body).toHaveLength(10);
  });
});

function routes(id: string): [string, string, unknown?][] {
  return [
    ["POST", A, { name: "x", project_id: projectId }],
    ["GET", `${A}/acme/web`],
    ["POST", `${A}/acme/web`, { name: "x" }],
    ["GET", `${A}/acme/web/svc-a`],
    ["PATCH", `${A}/acme/web/svc-a`, { name: "x" }],
    ["DELETE", `${A}/acme/web/svc-a`],
    ["PATCH", `${A}/${id}/settings`, { subdirectory: "x" }],
    ["PATCH", `${A}/acme/web/svc-a/settings`, { subdirectory: "x" }],
    ["POST", `${A}/${id}/scale`, { process_counts: { web: 5 } }],
    ["POST", `${A}/acme/web/svc-a/scale`, { process_counts: { web: 5 } }],
  ];
}

function seedServices(projectId: string, n: number) {
  const env = t.deps.sqlite.query("select id from environments where project_id = ? and is_default = 1").get(projectId) as { id: string };
  const insert = t.deps.sqlite.prepare(
    "insert into services (id, env_id, project_id, name, slug, platform, process_counts, process_pod_classes, domains, created_at, updated_at) values (?, ?, ?, ?, ?, 'wind', '{}', '{}', '[]', ?, ?)",
  );
  const now = new Date().toISOString();
  for (let i = 0; i < n; i++) insert.run(crypto.randomUUID(), env.id, projectId, `s${i}`, `s${i}`, now, now);
}
