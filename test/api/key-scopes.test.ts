// API key scopes are enforced: a "read" key reads and gets 403 on every write (before its body is
// looked at); "*", "write", absent or empty scopes keep full access; unknown values are refused.
import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { eq } from "drizzle-orm";
import { apiKeys } from "../../src/db/schema";
import { snapshotDb, testApp, type TestApp } from "../support/app";

setDefaultTimeout(180_000);

let t: TestApp;
let alice: { id: string; key: string };
beforeEach(async () => {
  t = await testApp();
  alice = await t.user("alice", { admin: true });
  expect((await t.req("POST", "/api/v1/organizations", { name: "Acme", slug: "acme" }, { key: alice.key })).status).toBe(201);
});
afterEach(() => t.close());

const keyWith = async (body: Record<string, unknown>) => {
  const r = await t.req("POST", "/api/keys", { name: "scoped", ...body }, { key: alice.key });
  expect(r.status).toBe(201);
  return r.body as { key: string; key_id: string; scopes: string[] };
};

describe("api key scopes", () => {
  test('a "read" key reads, and every write (POST, PATCH, DELETE; no route takes PUT) answers 403 with nothing changed', async () => {
    const ro = await keyWith({ scopes: ["read"] });
    expect(ro.scopes).toEqual(["read"]);
    expect((await t.req("GET", "/api/v1/organizations", undefined, { key: ro.key })).status).toBe(200);
    expect((await t.req("GET", "/api/v1/organizations/acme", undefined, { key: ro.key })).status).toBe(200);
    expect((await t.req("GET", "/api/keys", undefined, { key: ro.key })).status).toBe(200);
    const before = snapshotDb(t.deps);
    const writes: [string, string, unknown][] = [
      ["POST", "/api/v1/organizations", { name: "Evil", slug: "evil" }],
      ["PATCH", "/api/v1/organizations/acme", { name: "Renamed" }],
      ["POST", "/api/v1/orgs/acme/config", { name: "X", value: "1" }],
      ["DELETE", "/api/v1/organizations/acme", undefined],
      ["POST", "/api/v1/projects", { organization: "acme", name: "Shop" }],
      // no escalation: a read key cannot mint, revoke or delete keys
      ["POST", "/api/keys", { name: "full" }],
      ["POST", `/api/keys/${ro.key_id}/revoke`, undefined],
      ["DELETE", `/api/keys/${ro.key_id}`, undefined],
      // refused before validation: an invalid body is still a 403, never a 422 that describes the schema
      ["POST", "/api/v1/organizations", { name: 7 }],
    ];
    for (const [method, path, body] of writes) {
      const r = await t.req(method, path, body, { key: ro.key });
      expect([method, path, r.status]).toEqual([method, path, 403]);
      expect(r.body).toEqual({ status: 403, message: expect.stringContaining("read-only") });
    }
    // last_used_at is the one column a read may move; compare everything else
    const strip = (s: string) => s.replace(/"last_used_at":"[^"]*"|"lastUsedAt":"[^"]*"/g, "");
    expect(strip(snapshotDb(t.deps))).toBe(strip(before));
  });

  test('"*", "write", absent and empty scopes keep full access (today\'s behaviour)', async () => {
    const cases: [Record<string, unknown>, string[]][] = [[{}, ["*"]], [{ scopes: [] }, ["*"]], [{ scopes: ["*"] }, ["*"]], [{ scopes: ["write"] }, ["write"]], [{ scopes: ["read", "write"] }, ["read", "write"]]];
    let n = 0;
    for (const [body, stored] of cases) {
      const k = await keyWith(body);
      expect(k.scopes).toEqual(stored);
      const slug = `org-${n++}`;
      expect((await t.req("POST", "/api/v1/organizations", { name: slug, slug }, { key: k.key })).status).toBe(201);
      expect((await t.req("DELETE", `/api/v1/organizations/${slug}`, undefined, { key: k.key })).status).toBeLessThan(300);
    }
  });

  test("unknown scope values are refused with 422 naming the accepted ones; nothing is created", async () => {
    const before = snapshotDb(t.deps);
    for (const scopes of [["admin"], ["read", "deploy"], ["READ"], [""]]) {
      const r = await t.req("POST", "/api/keys", { name: "x", scopes }, { key: alice.key });
      expect([scopes, r.status]).toEqual([scopes, 422]);
      expect(r.body.message).toContain('"read"');
    }
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("a stored key with only unknown scopes is read-only (fails closed)", async () => {
    const k = await keyWith({ scopes: ["read"] });
    t.deps.db.update(apiKeys).set({ scopes: ["deploy"] }).where(eq(apiKeys.id, k.key_id)).run();
    expect((await t.req("GET", "/api/v1/organizations", undefined, { key: k.key })).status).toBe(200);
    expect((await t.req("POST", "/api/v1/organizations", { name: "Nope" }, { key: k.key })).status).toBe(403);
  });

  test("a session cookie is not limited by scopes; the read-only key's own user still writes with a full key", async () => {
    const ro = await keyWith({ scopes: ["read"] });
    expect((await t.req("POST", "/api/v1/organizations", { name: "B", slug: "b" }, { key: ro.key })).status).toBe(403);
    expect((await t.req("POST", "/api/v1/organizations", { name: "B", slug: "b" }, { key: alice.key })).status).toBe(201);
    const login = await t.req("POST", "/api/v1/auth/login", { email: "alice", password: "password-alice" });
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const r = await t.req("POST", "/api/v1/organizations", { name: "C", slug: "c" }, { cookie, headers: { origin: "http://localhost", host: "localhost" } });
    expect(r.status).toBe(201);
  });
});
