// API keys at /api/keys (reference contract) and server-admin user management.
import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { snapshotDb, testApp, type TestApp } from "../support/app";
import { referenceProblems } from "../support/reference-schema";
import { sha256Hex } from "../../src/lib/ids";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

let t: TestApp;
let alice: { id: string; key: string };
let bob: { id: string; key: string };
beforeEach(async () => {
  t = await testApp();
  alice = await t.user("alice");
  bob = await t.user("bob");
});
afterEach(() => t.close());

describe("api keys", () => {
  test("create shows the key once; only its hash is stored; the key authenticates", async () => {
    const r = await t.req("POST", "/api/keys", { name: "ci", scopes: ["read"], metadata: { team: "ops" } }, { key: alice.key });
    expect(r.status).toBe(201);
    expect(referenceProblems("CreateAPIKeyResponse", r.body)).toEqual([]);
    expect(r.body.key).toMatch(/^ancla_[0-9A-Za-z]{40}$/);
    const dump = snapshotDb(t.deps);
    expect(dump).not.toContain(r.body.key);
    expect(dump).toContain(sha256Hex(r.body.key));
    const info = await t.req("GET", `/api/keys/${r.body.key_id}`, undefined, { key: r.body.key });
    expect(info.status).toBe(200);
    expect(referenceProblems("APIKeyInfoResponse", info.body)).toEqual([]);
    expect(info.body).toMatchObject({ key_id: r.body.key_id, name: "ci", scopes: ["read"], is_active: true, metadata: { team: "ops" } });
    expect(info.body.last_used_at).not.toBeNull();
    expect(JSON.stringify(info.body)).not.toContain(r.body.key);
  });

  test("list is the caller's keys only, with limit/offset", async () => {
    for (const name of ["a", "b", "c"]) await t.req("POST", "/api/keys", { name }, { key: alice.key });
    const all = await t.req("GET", "/api/keys", undefined, { key: alice.key });
    expect(referenceProblems("ListAPIKeysResponse", all.body)).toEqual([]);
    expect(all.body.total).toBe(4); // three new + the harness key
    const page = await t.req("GET", "/api/keys?limit=2&offset=1", undefined, { key: alice.key });
    expect(page.body).toMatchObject({ total: 4, limit: 2, offset: 1 });
    expect(page.body.items).toHaveLength(2);
    const bobs = await t.req("GET", "/api/keys/", undefined, { key: bob.key });
    expect(bobs.body.total).toBe(1);
    expect((await t.req("GET", "/api/keys?limit=1000", undefined, { key: alice.key })).status).toBe(422);
  });

  test("revoke and delete: the key stops working; another user's key is 404", async () => {
    const k = (await t.req("POST", "/api/keys", { name: "tmp" }, { key: alice.key })).body;
    expect((await t.req("POST", `/api/keys/${k.key_id}/revoke`, undefined, { key: bob.key })).status).toBe(404);
    expect((await t.req("POST", `/api/keys/${k.key_id}/revoke`, undefined, { key: alice.key })).status).toBe(204);
    expect((await t.req("GET", "/api/v1/organizations", undefined, { key: k.key })).status).toBe(401);
    expect((await t.req("GET", `/api/keys/${k.key_id}`, undefined, { key: alice.key })).body.is_active).toBe(false);
    expect((await t.req("DELETE", `/api/keys/${k.key_id}`, undefined, { key: bob.key })).status).toBe(404);
    expect((await t.req("DELETE", `/api/keys/${k.key_id}`, undefined, { key: alice.key })).status).toBe(204);
    expect((await t.req("GET", `/api/keys/${k.key_id}`, undefined, { key: alice.key })).status).toBe(404);
  });

  test("expiry: past dates are refused, an expired key is rejected", async () => {
    const past = await t.req("POST", "/api/keys", { name: "old", expires_at: "2001-01-01T00:00:00Z" }, { key: alice.key });
    expect(past.status).toBe(422);
    const soon = new Date(Date.now() + 60_000).toISOString();
    const k = (await t.req("POST", "/api/keys", { name: "short", expires_at: soon }, { key: alice.key })).body;
    expect((await t.req("GET", "/api/v1/organizations", undefined, { key: k.key })).status).toBe(200);
    t.deps.clock = { now: () => new Date(Date.now() + 120_000) };
    expect((await t.req("GET", "/api/v1/organizations", undefined, { key: k.key })).status).toBe(401);
  });

  test("no credentials → 401; malformed or unknown keys → 401; bad bodies → 422 and nothing changes", async () => {
    expect((await t.req("GET", "/api/keys")).status).toBe(401);
    expect((await t.req("GET", "/api/keys", undefined, { key: "ancla_" + "x".repeat(40) })).status).toBe(401);
    expect((await t.req("GET", "/api/keys", undefined, { key: "not-a-key" })).status).toBe(401);
    await t.req("GET", "/api/keys", undefined, { key: alice.key }); // records last_used_at first
    const before = snapshotDb(t.deps);
    for (const body of [{}, { name: "" }, { name: 7 }, { name: "x", scopes: "all" }, { name: "bad\u0000name" }, { name: "x", expires_at: "tomorrow" }]) {
      expect([body, (await t.req("POST", "/api/keys", body, { key: alice.key })).status]).toEqual([body, 422]);
    }
    expect(snapshotDb(t.deps)).toBe(before);
  });
});

describe("server admin users", () => {
  test("list, create, make admin, deactivate — server admins only", async () => {
    const root = await t.user("root", { admin: true });
    expect((await t.req("GET", "/api/v1/admin/users", undefined, { key: alice.key })).status).toBe(403);
    expect((await t.req("GET", "/api/v1/admin/users")).status).toBe(401);
    const list = await t.req("GET", "/api/v1/admin/users?per_page=2", undefined, { key: root.key });
    expect(list.body.pagination).toEqual({ page: 1, per_page: 2, total: 3, total_pages: 2 });
    for (const u of list.body.items) expect(referenceProblems("ancla_server_api_dtos_auth_UserResponse", u)).toEqual([]);
    const created = await t.req("POST", "/api/v1/admin/users", { username: "carol", email: "carol@example.test", password: "long-enough-pw" }, { key: root.key });
    expect(created).toMatchObject({ status: 201, body: { username: "carol", admin: false, active: true } });
    expect((await t.req("POST", "/api/v1/admin/users", { username: "carol", email: "c2@example.test", password: "long-enough-pw" }, { key: root.key })).status).toBe(409);
    expect((await t.req("POST", "/api/v1/admin/users", { username: "Bad Name", email: "x", password: "short" }, { key: root.key })).status).toBe(422);
    const promoted = await t.req("PATCH", `/api/v1/admin/users/${created.body.id}`, { admin: true }, { key: root.key });
    expect(promoted.body.admin).toBe(true);
    expect((await t.req("PATCH", `/api/v1/admin/users/${root.id}`, { active: false }, { key: root.key })).status).toBe(422);
    expect((await t.req("PATCH", `/api/v1/admin/users/nope`, { active: false }, { key: root.key })).status).toBe(404);
    expect((await t.req("PATCH", `/api/v1/admin/users/${bob.id}`, { active: false }, { key: alice.key })).status).toBe(403);
  });
});
