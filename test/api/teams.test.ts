import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { orgsWorld, snapshotDb, testApp, type TestApp, type TestUser } from "../support/app";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(60_000);

let t: TestApp;
type U = TestUser;
let owner: U, member: U, outsider: U;

beforeEach(async () => {
  t = await testApp();
  ({ owner, member, outsider } = await orgsWorld(t));
});
afterEach(() => t.close());

describe("teams", () => {
  test("org admin creates, members list with project counts", async () => {
    const r = await t.req("POST", "/api/v1/orgs/acme/teams", { name: "Platform Crew" }, { key: owner.key });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      id: expect.any(String),
      name: "Platform Crew",
      slug: "platform-crew",
      organization_id: expect.any(String),
      organization_slug: "acme",
      project_count: 0,
      created: expect.any(String),
    });
    await t.req("POST", "/api/v1/orgs/acme/teams/", { name: "Ops", slug: "ops" }, { key: owner.key });
    await t.req("POST", "/api/v1/orgs/acme/projects", { name: "Web", team: "ops" }, { key: member.key });
    const list = await t.req("GET", "/api/v1/orgs/acme/teams", undefined, { key: member.key });
    expect(list.status).toBe(200);
    expect(list.body.map((x: { slug: string; project_count: number }) => [x.slug, x.project_count])).toEqual([
      ["ops", 1],
      ["platform-crew", 0],
    ]);
    // the org id works in place of its slug
    expect((await t.req("GET", `/api/v1/orgs/${r.body.organization_id}/teams`, undefined, { key: member.key })).body).toHaveLength(2);
  });

  test("401 without credentials, 404 for other organizations, 403 for members creating", async () => {
    const before = snapshotDb(t.deps);
    expect((await t.req("GET", "/api/v1/orgs/acme/teams")).status).toBe(401);
    expect((await t.req("POST", "/api/v1/orgs/acme/teams", { name: "x" })).status).toBe(401);
    expect((await t.req("GET", "/api/v1/orgs/acme/teams", undefined, { key: outsider.key })).status).toBe(404);
    expect((await t.req("POST", "/api/v1/orgs/acme/teams", { name: "x" }, { key: outsider.key })).status).toBe(404);
    expect((await t.req("GET", "/api/v1/orgs/nope/teams", undefined, { key: owner.key })).status).toBe(404);
    const forbidden = await t.req("POST", "/api/v1/orgs/acme/teams", { name: "x" }, { key: member.key });
    expect(forbidden).toMatchObject({ status: 403, body: { status: 403 } });
    expect(snapshotDb(t.deps)).toBe(before);
    const admin = await t.user("root", { admin: true });
    expect((await t.req("POST", "/api/v1/orgs/acme/teams", { name: "By Root" }, { key: admin.key })).status).toBe(201);
  });

  test("duplicate slug in the org → 409; the same slug in another org is fine", async () => {
    await t.req("POST", "/api/v1/orgs/acme/teams", { name: "Core" }, { key: owner.key });
    const before = snapshotDb(t.deps);
    const dup = await t.req("POST", "/api/v1/orgs/acme/teams", { name: "Other name", slug: "core" }, { key: owner.key });
    expect(dup.status).toBe(409);
    expect(dup.body.message).toContain("core");
    expect(snapshotDb(t.deps)).toBe(before);
    expect((await t.req("POST", "/api/v1/orgs/other/teams", { name: "Core" }, { key: outsider.key })).status).toBe(201);
  });

  test("bad input → 4xx and nothing changes", async () => {
    const before = snapshotDb(t.deps);
    const cases: unknown[] = [{}, { name: 1 }, { name: "" }, { name: "x", slug: "No" }, { name: "x", slug: "new" }, { name: "a\u001bb" }, { name: "y".repeat(300) }, { name: "x", slug: "0190a0b0-0000-7000-8000-000000000000" }, "str"];
    for (const body of cases) {
      const r = await t.req("POST", "/api/v1/orgs/acme/teams", body, { key: owner.key });
      expect([body, r.status]).toEqual([body, 422]);
    }
    const malformed = await t.req("POST", "/api/v1/orgs/acme/teams", undefined, { key: owner.key, raw: "{", headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
    expect(snapshotDb(t.deps)).toBe(before);
  });
});
