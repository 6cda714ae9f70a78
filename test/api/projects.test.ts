import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { orgsWorld, snapshotDb, testApp, type TestApp, type TestUser } from "../support/app";
import { referenceProblems } from "../support/reference-schema";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

let t: TestApp;
type U = TestUser;
let owner: U, member: U, outsider: U;

beforeEach(async () => {
  t = await testApp();
  ({ owner, member, outsider } = await orgsWorld(t));
});
afterEach(() => t.close());

const create = (body: unknown, key = owner.key) => t.req("POST", "/api/v1/projects", body, { key });

describe("projects", () => {
  test("POST /projects creates the project with its default production environment (ProjectDetail)", async () => {
    const r = await create({ name: "Web Shop", organization_id: "acme" }, member.key);
    expect(r.status).toBe(201);
    expect(referenceProblems("ProjectDetail", r.body)).toEqual([]);
    expect(r.body).toMatchObject({ name: "Web Shop", slug: "web-shop", organization_slug: "acme", organization_name: "Acme", application_count: 0, team_id: null });
    expect(r.body.environments).toEqual([{ id: expect.any(String), name: "production", slug: "production", env_type: "production", is_default: true, protected: false }]);
    const env = await t.req("GET", "/api/v1/orgs/acme/projects/web-shop/envs/production", undefined, { key: member.key });
    expect(env.body).toMatchObject({ env_type: "production", is_default: true, target: "docker" });
    // organization_id also takes the organization's id
    const org = (await t.req("GET", "/api/v1/organizations/acme", undefined, { key: owner.key })).body;
    expect((await create({ name: "By Id", organization_id: org.id })).body.organization_slug).toBe("acme");
  });

  test("SDK and hierarchical create forms; lists show only the caller's organizations", async () => {
    expect((await t.req("POST", "/api/v1/projects/acme", { name: "A", slug: "alpha" }, { key: member.key })).status).toBe(201);
    expect((await t.req("POST", "/api/v1/orgs/acme/projects/", { name: "Beta" }, { key: owner.key })).status).toBe(201);
    expect((await t.req("POST", "/api/v1/orgs/other/projects", { name: "Secret" }, { key: outsider.key })).status).toBe(201);
    await t.req("POST", "/api/v1/applications/acme/alpha", { name: "one" }, { key: member.key });
    await t.req("POST", "/api/v1/orgs/acme/projects/alpha/envs", { name: "staging" }, { key: member.key });
    await t.req("POST", "/api/v1/orgs/acme/projects/alpha/envs/staging/services", { name: "two" }, { key: member.key });
    const mine = await t.req("GET", "/api/v1/projects", undefined, { key: member.key });
    expect(mine.body.map((p: { application_count: number }) => p.application_count)).toEqual([2, 0]);
    expect(mine.status).toBe(200);
    expect(mine.body.map((p: { slug: string }) => p.slug)).toEqual(["alpha", "beta"]);
    for (const p of mine.body) expect(referenceProblems("ProjectSummary", p)).toEqual([]);
    expect((await t.req("GET", "/api/v1/projects?org=acme", undefined, { key: member.key })).body).toHaveLength(2);
    expect((await t.req("GET", "/api/v1/projects?org=other", undefined, { key: member.key })).status).toBe(404);
    expect((await t.req("GET", "/api/v1/projects/acme", undefined, { key: member.key })).body).toHaveLength(2);
    expect((await t.req("GET", "/api/v1/orgs/acme/projects", undefined, { key: member.key })).body).toHaveLength(2);
    const admin = await t.user("root", { admin: true });
    expect((await t.req("GET", "/api/v1/projects", undefined, { key: admin.key })).body).toHaveLength(3);
  });

  test("get, patch and delete in both families", async () => {
    await create({ name: "Web", organization_id: "acme" });
    const g = await t.req("GET", "/api/v1/projects/acme/web", undefined, { key: member.key });
    expect(g.status).toBe(200);
    expect(referenceProblems("ProjectDetail", g.body)).toEqual([]);
    expect((await t.req("GET", "/api/v1/orgs/acme/projects/web/", undefined, { key: member.key })).body.id).toBe(g.body.id);
    const p = await t.req("PATCH", "/api/v1/projects/acme/web", { name: "Web 2", slug: "web2", description: "shop" }, { key: member.key });
    expect(p).toMatchObject({ status: 200, body: { name: "Web 2", slug: "web2", description: "shop" } });
    expect((await t.req("PATCH", "/api/v1/orgs/acme/projects/web2", { previews_enabled: true }, { key: member.key })).body.previews_enabled).toBe(true);
    expect((await t.req("DELETE", "/api/v1/projects/acme/web2", undefined, { key: member.key })).status).toBe(403);
    expect((await t.req("DELETE", "/api/v1/projects/acme/web2", undefined, { key: owner.key })).body).toEqual({ ok: true });
    expect((await t.req("GET", "/api/v1/projects/acme/web2", undefined, { key: owner.key })).status).toBe(404);
    await create({ name: "Again", organization_id: "acme" });
    expect((await t.req("DELETE", "/api/v1/orgs/acme/projects/again", undefined, { key: owner.key })).status).toBe(200);
  });

  test("delete takes environments, services and their config with it", async () => {
    await create({ name: "Web", organization_id: "acme" });
    await t.req("POST", "/api/v1/orgs/acme/projects/web/envs", { name: "staging" }, { key: owner.key });
    await t.req("POST", "/api/v1/orgs/acme/projects/web/envs/staging/services", { name: "api" }, { key: owner.key });
    const svc = (await t.req("POST", "/api/v1/applications/acme/web", { name: "worker" }, { key: owner.key })).body;
    const now = new Date().toISOString();
    t.deps.sqlite.run("insert into config_vars (id, scope, scope_id, name, value, secret, buildtime, created_at, updated_at) values (?,?,?,?,?,?,?,?,?)", [
      "c1", "service", svc.id, "A", "1", 0, 0, now, now,
    ]);
    expect((await t.req("DELETE", "/api/v1/projects/acme/web", undefined, { key: owner.key })).status).toBe(200);
    for (const table of ["projects", "environments", "services", "config_vars"]) {
      expect([table, (t.deps.sqlite.query(`select count(*) as n from ${table}`).get() as { n: number }).n]).toEqual([table, 0]);
    }
  });

  test("teams: assign by slug or id, clear with null, unknown team → 422", async () => {
    const team = (await t.req("POST", "/api/v1/orgs/acme/teams", { name: "Core" }, { key: owner.key })).body;
    const r = await t.req("POST", "/api/v1/projects/acme", { name: "Web", team: "core" }, { key: member.key });
    expect(r.body).toMatchObject({ team_id: team.id, team_slug: "core" });
    expect((await t.req("PATCH", "/api/v1/projects/acme/web", { team: null }, { key: member.key })).body.team_id).toBeNull();
    expect((await t.req("PATCH", "/api/v1/projects/acme/web", { team: team.id }, { key: member.key })).body.team_slug).toBe("core");
    const before = snapshotDb(t.deps);
    const bad = await t.req("POST", "/api/v1/projects/acme", { name: "X", team: "ghost" }, { key: member.key });
    expect(bad.status).toBe(422);
    expect(bad.body.errors[0].path).toBe("team");
    const otherTeam = (await t.req("POST", "/api/v1/orgs/other/teams", { name: "Theirs" }, { key: outsider.key })).body;
    const before2 = snapshotDb(t.deps);
    expect((await t.req("PATCH", "/api/v1/projects/acme/web", { team: otherTeam.id }, { key: member.key })).status).toBe(422);
    expect(snapshotDb(t.deps)).toBe(before2);
    expect(before).not.toBe(before2); // the other org's team was created in between
  });

  test("duplicate slugs → 409 (create and rename); same slug in another org is fine", async () => {
    await create({ name: "Web", organization_id: "acme" });
    await create({ name: "Shop", organization_id: "acme" });
    const before = snapshotDb(t.deps);
    expect((await create({ name: "Web again", slug: "web", organization_id: "acme" })).status).toBe(409);
    expect((await t.req("PATCH", "/api/v1/projects/acme/shop", { slug: "web" }, { key: owner.key })).status).toBe(409);
    expect(snapshotDb(t.deps)).toBe(before);
    expect((await create({ name: "Web", organization_id: "other" }, outsider.key)).status).toBe(201);
  });

  test("no credentials → 401 on every route", async () => {
    await create({ name: "Web", organization_id: "acme" });
    const routes: [string, string, unknown?][] = [
      ["GET", "/api/v1/projects"],
      ["POST", "/api/v1/projects", { name: "x", organization_id: "acme" }],
      ["GET", "/api/v1/projects/acme"],
      ["POST", "/api/v1/projects/acme", { name: "x" }],
      ["GET", "/api/v1/projects/acme/web"],
      ["PATCH", "/api/v1/projects/acme/web", { name: "x" }],
      ["DELETE", "/api/v1/projects/acme/web"],
      ["GET", "/api/v1/orgs/acme/projects"],
      ["POST", "/api/v1/orgs/acme/projects", { name: "x" }],
      ["GET", "/api/v1/orgs/acme/projects/web"],
      ["PATCH", "/api/v1/orgs/acme/projects/web", { name: "x" }],
      ["DELETE", "/api/v1/orgs/acme/projects/web"],
    ];
    const before = snapshotDb(t.deps);
    for (const [m, p, b] of routes) expect([m, p, (await t.req(m, p, b)).status]).toEqual([m, p, 401]);
    for (const [m, p, b] of routes) expect([m, p, (await t.req(m, p, b, { key: "ancla_" + "x".repeat(40) })).status]).toEqual([m, p, 401]);
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("another organization's projects → 404 on every route, nothing changes", async () => {
    await create({ name: "Web", organization_id: "acme" });
    const before = snapshotDb(t.deps);
    const routes: [string, string, unknown?][] = [
      ["POST", "/api/v1/projects", { name: "x", organization_id: "acme" }],
      ["GET", "/api/v1/projects?org=acme"],
      ["GET", "/api/v1/projects/acme"],
      ["POST", "/api/v1/projects/acme", { name: "x" }],
      ["GET", "/api/v1/projects/acme/web"],
      ["PATCH", "/api/v1/projects/acme/web", { name: "x" }],
      ["DELETE", "/api/v1/projects/acme/web"],
      ["GET", "/api/v1/orgs/acme/projects"],
      ["POST", "/api/v1/orgs/acme/projects", { name: "x" }],
      ["GET", "/api/v1/orgs/acme/projects/web"],
      ["PATCH", "/api/v1/orgs/acme/projects/web", { name: "x" }],
      ["DELETE", "/api/v1/orgs/acme/projects/web"],
      ["GET", "/api/v1/projects/acme/nope"],
    ];
    for (const [m, p, b] of routes) expect([m, p, (await t.req(m, p, b, { key: outsider.key })).status]).toEqual([m, p, 404]);
    expect((await t.req("GET", "/api/v1/projects", undefined, { key: outsider.key })).body).toEqual([]);
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("bad input → 4xx naming the field, nothing changes", async () => {
    await create({ name: "Web", organization_id: "acme" });
    const before = snapshotDb(t.deps);
    const cases: [unknown, number][] = [
      [{}, 422],
      [{ name: "x" }, 422],
      [{ organization_id: "acme" }, 422],
      [{ name: 5, organization_id: "acme" }, 422],
      [{ name: "x", organization_id: 5 }, 422],
      [{ name: "", organization_id: "acme" }, 422],
      [{ name: "x", slug: "Has Caps", organization_id: "acme" }, 422],
      [{ name: "x", slug: "admin", organization_id: "acme" }, 422],
      [{ name: "x", slug: "0190a0b0-0000-7000-8000-000000000000", organization_id: "acme" }, 422],
      [{ name: "x", slug: "-lead", organization_id: "acme" }, 422],
      [{ name: "x", slug: "a".repeat(64), organization_id: "acme" }, 422],
      [{ name: "tab\tname", organization_id: "acme" }, 422],
      [{ name: "x".repeat(101), organization_id: "acme" }, 422],
      [{ name: "🚀🚀", organization_id: "acme" }, 422], // nothing to derive a slug from
      [{ name: "x", organization_id: "acme", team: 3 }, 422],
      [{ name: "x", organization_id: "acme", description: "a\u0000b" }, 422],
      [{ name: "x", organization_id: "nope" }, 404],
      [[1, 2], 422],
    ];
    for (const [body, status] of cases) {
      const r = await create(body);
      expect([JSON.stringify(body), r.status]).toEqual([JSON.stringify(body), status]);
      expect(typeof r.body.message).toBe("string");
    }
    const malformed = await t.req("POST", "/api/v1/projects", undefined, { key: owner.key, raw: "{nope", headers: { "content-type": "application/json" } });
    expect(malformed).toMatchObject({ status: 400, body: { status: 400, message: "Malformed JSON body." } });
    const patchCases: unknown[] = [{ name: "" }, { slug: "UP" }, { team: "" }, { previews_enabled: "yes" }, { name: "a\nb" }];
    for (const body of patchCases) expect([body, (await t.req("PATCH", "/api/v1/projects/acme/web", body, { key: owner.key })).status]).toEqual([body, 422]);
    const named = await create({ name: "x", slug: "BAD", organization_id: "acme" });
    expect(named.body.message).toStartWith("slug:");
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("unicode names derive ASCII slugs and keep the name", async () => {
    const r = await create({ name: "Café Ünïcode", organization_id: "acme" });
    expect(r.body).toMatchObject({ name: "Café Ünïcode", slug: "cafe-unicode" });
    const emoji = await create({ name: "Ship 🚀 it", organization_id: "acme" });
    expect(emoji.body.slug).toBe("ship-it");
  });
});

describe("anonymous callers", () => {
  test("get 401 before their body is judged", async () => {
    const before = snapshotDb(t.deps);
    for (const [m, p] of [
      ["POST", "/api/v1/projects"],
      ["POST", "/api/v1/orgs/acme/teams"],
      ["POST", "/api/v1/orgs/acme/projects/web/envs"],
      ["POST", "/api/v1/applications"],
      ["POST", "/api/v1/applications/acme/web/x/scale"],
    ] as const) {
      const r = await t.req(m, p, { name: 5, process_counts: "x" });
      expect([p, r.status, r.body]).toEqual([p, 401, { status: 401, message: "Authentication required." }]);
    }
    expect(snapshotDb(t.deps)).toBe(before);
  });
});
