import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { orgsWorld, snapshotDb, testApp, type TestApp, type TestUser } from "../support/app";

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
      member_count: 0,
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

describe("team members", () => {
  const T = "/api/v1/orgs/acme/teams";
  beforeEach(async () => {
    expect((await t.req("POST", T, { name: "Ops" }, { key: owner.key })).status).toBe(201);
  });

  test("org admins add members of the organization (by username, email or id) and remove them; members see who is on a team", async () => {
    const add = await t.req("POST", `${T}/ops/members`, { username: "member" }, { key: owner.key });
    expect(add.status).toBe(201);
    expect(add.body).toMatchObject({ slug: "ops", member_count: 1, members: [{ user_id: member.id, username: "member", email: "member@example.test", added: expect.any(String) }] });
    expect((await t.req("POST", `${T}/ops/members`, { username: "owner@example.test" }, { key: owner.key })).body.members.map((m: { username: string }) => m.username)).toEqual(["member", "owner"]);
    const seen = await t.req("GET", `${T}/ops`, undefined, { key: member.key });
    expect(seen.status).toBe(200);
    expect(seen.body.member_count).toBe(2);
    expect((await t.req("GET", T, undefined, { key: member.key })).body[0]).toMatchObject({ slug: "ops", member_count: 2 });
    const removed = await t.req("DELETE", `${T}/ops/members/${member.id}`, undefined, { key: owner.key });
    expect(removed.status).toBe(200);
    expect(removed.body.members.map((m: { username: string }) => m.username)).toEqual(["owner"]);
    expect((await t.req("DELETE", `${T}/ops/members/owner`, undefined, { key: owner.key })).body.members).toEqual([]);
  });

  test("only members of the organization join (422 naming it), twice is 409, members cannot change a team (403), other organizations see nothing (404)", async () => {
    const before = snapshotDb(t.deps);
    const stranger = await t.req("POST", `${T}/ops/members`, { username: "outsider" }, { key: owner.key });
    expect(stranger.status).toBe(422);
    expect(stranger.body.message).toBe("outsider is not a member of acme; add them to the organization first.");
    expect((await t.req("POST", `${T}/ops/members`, { username: "nobody" }, { key: owner.key })).status).toBe(404);
    expect((await t.req("POST", `${T}/nope/members`, { username: "member" }, { key: owner.key })).status).toBe(404);
    expect((await t.req("POST", `${T}/ops/members`, { username: "member" }, { key: member.key })).status).toBe(403);
    expect((await t.req("POST", `${T}/ops/members`, { username: "member" }, { key: outsider.key })).status).toBe(404);
    expect((await t.req("GET", `${T}/ops`, undefined, { key: outsider.key })).status).toBe(404);
    expect((await t.req("GET", `${T}/ops`)).status).toBe(401);
    for (const body of [{}, { username: "" }, { username: 5 }, "x"]) expect([body, (await t.req("POST", `${T}/ops/members`, body, { key: owner.key })).status]).toEqual([body, 422]);
    expect((await t.req("DELETE", `${T}/ops/members/member`, undefined, { key: owner.key })).status).toBe(404); // not on the team
    expect(snapshotDb(t.deps)).toBe(before);
    expect((await t.req("POST", `${T}/ops/members`, { username: member.id }, { key: owner.key })).status).toBe(201);
    expect((await t.req("POST", `${T}/ops/members`, { username: "member" }, { key: owner.key })).status).toBe(409);
    expect((await t.req("DELETE", `${T}/ops/members/${member.id}`, undefined, { key: member.key })).status).toBe(403);
  });

  test("leaving the organization is leaving its teams", async () => {
    expect((await t.req("POST", `${T}/ops/members`, { username: "member" }, { key: owner.key })).status).toBe(201);
    expect((await t.req("DELETE", `/api/v1/organizations/acme/members/${member.id}`, undefined, { key: owner.key })).status).toBe(200);
    expect((await t.req("GET", `${T}/ops`, undefined, { key: owner.key })).body).toMatchObject({ member_count: 0, members: [] });
    expect((await t.req("POST", "/api/v1/organizations/acme/members", { username: "member" }, { key: owner.key })).status).toBe(201);
    expect((await t.req("GET", `${T}/ops`, undefined, { key: owner.key })).body.members).toEqual([]);
  });
});
