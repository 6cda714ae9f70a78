import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { snapshotDb, testApp, type TestApp } from "../support/app";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

let t: TestApp;
let owner: { id: string; key: string };
let member: { id: string; key: string };
let outsider: { id: string; key: string };

beforeEach(async () => {
  t = await testApp();
  owner = await t.user("owner");
  member = await t.user("member");
  outsider = await t.user("outsider");
  const created = await t.req("POST", "/api/v1/organizations", { name: "Acme Inc" }, { key: owner.key });
  expect(created.status).toBe(201);
  expect((await t.req("POST", "/api/v1/organizations/acme-inc/members", { username: "member" }, { key: owner.key })).status).toBe(201);
});
afterEach(() => t.close());

describe("organizations", () => {
  test("create derives the slug and returns OrganizationDetail", async () => {
    const r = await t.req("POST", "/api/v1/organizations", { name: "Zürich Labs" }, { key: owner.key });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ name: "Zürich Labs", slug: "zurich-labs", project_count: 0, application_count: 0 });
    expect(r.body.members).toEqual([{ user_id: owner.id, username: "owner", email: "owner@example.test", admin: true }]);
  });

  test("list shows only the caller's organizations with counts; trailing slash accepted", async () => {
    await t.req("POST", "/api/v1/organizations", { name: "Other", slug: "other" }, { key: outsider.key });
    const r = await t.req("GET", "/api/v1/organizations/", undefined, { key: member.key });
    expect(r.status).toBe(200);
    expect(r.body).toEqual([{ id: expect.any(String), name: "Acme Inc", slug: "acme-inc", member_count: 2, project_count: 0 }]);
  });

  test("no credentials → 401, non-member → 404, member → 403 for admin actions", async () => {
    expect((await t.req("GET", "/api/v1/organizations")).status).toBe(401);
    expect((await t.req("GET", "/api/v1/organizations/acme-inc")).body).toEqual({ status: 401, message: "Authentication required." });
    expect((await t.req("GET", "/api/v1/organizations/acme-inc", undefined, { key: outsider.key })).status).toBe(404);
    expect((await t.req("PATCH", "/api/v1/organizations/acme-inc", { name: "X" }, { key: outsider.key })).status).toBe(404);
    expect((await t.req("PATCH", "/api/v1/organizations/acme-inc", { name: "X" }, { key: member.key })).status).toBe(403);
    expect((await t.req("DELETE", "/api/v1/organizations/acme-inc", undefined, { key: member.key })).status).toBe(403);
    expect((await t.req("POST", "/api/v1/organizations/acme-inc/members", { username: "outsider" }, { key: member.key })).status).toBe(403);
  });

  test("a server admin lists every organization with its real counts", async () => {
    const admin = await t.user("root", { admin: true });
    const p = await t.req("POST", "/api/v1/projects", { name: "Web", organization_id: "acme-inc" }, { key: owner.key });
    expect(p.status).toBe(201);
    const r = await t.req("GET", "/api/v1/organizations", undefined, { key: admin.key });
    expect(r.body).toEqual([{ id: expect.any(String), name: "Acme Inc", slug: "acme-inc", member_count: 2, project_count: 1 }]);
  });

  test("anonymous requests get 401 before their body is judged", async () => {
    for (const [method, path] of [["POST", "/api/v1/organizations"], ["POST", "/api/keys"], ["POST", "/api/v1/admin/users"], ["POST", "/api/v1/organizations/acme-inc/members"]]) {
      const r = await t.req(method!, path!, { bogus: true });
      expect([path, r.status]).toEqual([path, 401]);
    }
  });

  test("duplicate slug → 409", async () => {
    const r = await t.req("POST", "/api/v1/organizations", { name: "Acme", slug: "acme-inc" }, { key: outsider.key });
    expect(r.status).toBe(409);
    expect(r.body.message).toContain("acme-inc");
  });

  test("bad input gets the right 4xx and changes nothing", async () => {
    const before = snapshotDb(t.deps);
    const cases: [unknown, number][] = [
      [{}, 422],
      [{ name: 42 }, 422],
      [{ name: "" }, 422],
      [{ name: "ok", slug: "Bad Slug" }, 422],
      [{ name: "ok", slug: "admin" }, 422],
      [{ name: "ok", slug: "0190a0b0-0000-7000-8000-000000000000" }, 422],
      [{ name: "bad\u0007name" }, 422],
      [{ name: "x".repeat(5000) }, 422],
      [{ name: "!!!" }, 422],
    ];
    for (const [body, status] of cases) {
      const r = await t.req("POST", "/api/v1/organizations", body, { key: owner.key });
      expect([JSON.stringify(body), r.status]).toEqual([JSON.stringify(body), status]);
      expect(typeof r.body.message).toBe("string");
    }
    const malformed = await t.req("POST", "/api/v1/organizations", undefined, { key: owner.key, raw: '{"name":', headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
    expect(malformed.body).toEqual({ status: 400, message: "Malformed JSON body." });
    const huge = await t.req("POST", "/api/v1/organizations", { name: "a", pad: "x".repeat(1024 * 1024 + 10) }, { key: owner.key });
    expect(huge.status).toBe(413);
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("validation errors name the field", async () => {
    const r = await t.req("POST", "/api/v1/organizations", { name: "ok", slug: "NO" }, { key: owner.key });
    expect(r.status).toBe(422);
    expect(r.body.message).toStartWith("slug:");
    expect(r.body.errors[0].path).toBe("slug");
  });

  test("members: toggle admin and remove, never the last admin", async () => {
    const lastAdmin = await t.req("POST", `/api/v1/organizations/acme-inc/members/${owner.id}/toggle-admin`, undefined, { key: owner.key });
    expect(lastAdmin.status).toBe(409);
    const promote = await t.req("POST", `/api/v1/organizations/acme-inc/members/${member.id}/toggle-admin`, undefined, { key: owner.key });
    expect(promote).toMatchObject({ status: 201, body: { ok: true, admin: true } });
    const removeOwner = await t.req("DELETE", `/api/v1/organizations/acme-inc/members/${owner.id}`, undefined, { key: member.key });
    expect(removeOwner).toMatchObject({ status: 200, body: { ok: true } });
    const removeLast = await t.req("DELETE", `/api/v1/organizations/acme-inc/members/${member.id}`, undefined, { key: member.key });
    expect(removeLast.status).toBe(409);
    expect((await t.req("GET", "/api/v1/organizations/acme-inc", undefined, { key: owner.key })).status).toBe(404);
  });

  test("add member: unknown user 404, duplicate 409", async () => {
    expect((await t.req("POST", "/api/v1/organizations/acme-inc/members", { username: "ghost" }, { key: owner.key })).status).toBe(404);
    expect((await t.req("POST", "/api/v1/organizations/acme-inc/members", { username: "member" }, { key: owner.key })).status).toBe(409);
  });

  test("patch and delete by an org admin; hierarchical alias /orgs", async () => {
    const p = await t.req("PATCH", "/api/v1/orgs/acme-inc", { name: "Acme Corp", slug: "acme" }, { key: owner.key });
    expect(p).toMatchObject({ status: 200, body: { name: "Acme Corp", slug: "acme" } });
    expect((await t.req("DELETE", "/api/v1/organizations/acme", undefined, { key: owner.key })).body).toEqual({ ok: true });
    expect((await t.req("GET", "/api/v1/organizations/acme", undefined, { key: owner.key })).status).toBe(404);
  });

  test("unknown routes and wrong methods answer {status, message}", async () => {
    const r = await t.req("GET", "/api/v1/nope", undefined, { key: owner.key });
    expect(r.body).toEqual({ status: 404, message: "Route not found." });
    const m = await t.req("PUT", "/api/v1/organizations/acme-inc", {}, { key: owner.key });
    expect(m.status).toBeGreaterThanOrEqual(404);
    expect(typeof m.body.message).toBe("string");
  });
});
