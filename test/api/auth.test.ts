// Identity: login/logout/session, cookies, rate limiting, same-origin writes.
import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { snapshotDb, testApp, type TestApp } from "../support/app";
import { referenceProblems } from "../support/reference-schema";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
  await t.user("alice");
});
afterEach(() => t.close());

const login = (email: string, password: string, headers: Record<string, string> = {}) =>
  t.req("POST", "/api/v1/auth/login", { email, password }, { headers });
const cookieOf = (r: { headers: Headers }) => r.headers.get("set-cookie")!.split(";")[0]!;

describe("auth", () => {
  test("login by email or username sets an HttpOnly SameSite=Lax cookie; session works with it", async () => {
    for (const who of ["alice@example.test", "alice", "ALICE"]) {
      const r = await login(who, "password-alice");
      expect(r.status).toBe(201);
      expect(r.body).toMatchObject({ authenticated: true, user: { username: "alice", email: "alice@example.test", admin: false, active: true } });
      expect(referenceProblems("SessionResponse", r.body)).toEqual([]);
      const cookie = r.headers.get("set-cookie")!;
      expect(cookie).toContain("HttpOnly");
      expect(cookie).toContain("SameSite=Lax");
      const s = await t.req("GET", "/api/v1/auth/session", undefined, { cookie: cookieOf(r) });
      expect(s.body).toMatchObject({ authenticated: true, user: { username: "alice" } });
    }
  });

  test("the session route answers anonymous callers and works with an API key", async () => {
    expect((await t.req("GET", "/api/v1/auth/session")).body).toEqual({ authenticated: false, user: null });
    const bob = await t.user("bob");
    const s = await t.req("GET", "/api/v1/auth/session", undefined, { key: bob.key });
    expect(s.body).toMatchObject({ authenticated: true, user: { id: bob.id, username: "bob" } });
  });

  test("wrong password → 401 with one message for unknown users and bad passwords", async () => {
    const a = await login("alice", "nope");
    const b = await login("nobody", "nope");
    expect([a.status, b.status]).toEqual([401, 401]);
    expect(a.body.message).toBe(b.body.message);
  });

  test("repeated failures are rate limited per (ip, user) → 429, even with the right password", async () => {
    for (let i = 0; i < 5; i++) expect((await login("alice", "wrong")).status).toBe(401);
    expect((await login("alice", "wrong")).status).toBe(429);
    expect((await login("alice", "password-alice")).status).toBe(429);
    expect((await login("bob-does-not-exist", "x")).status).toBe(401); // another username is not blocked
  });

  test("logout ends the server-side session", async () => {
    const cookie = cookieOf(await login("alice", "password-alice"));
    const out = await t.req("POST", "/api/v1/auth/logout", undefined, { cookie });
    expect(out).toMatchObject({ status: 201, body: { ok: true } });
    expect((await t.req("GET", "/api/v1/auth/session", undefined, { cookie })).body.authenticated).toBe(false);
    expect((await t.req("GET", "/api/v1/organizations", undefined, { cookie })).status).toBe(401);
  });

  test("cookie writes from another origin are refused; same origin and API keys pass", async () => {
    const cookie = cookieOf(await login("alice", "password-alice"));
    const before = snapshotDb(t.deps);
    const cross = await t.req("POST", "/api/v1/organizations", { name: "Evil" }, { cookie, headers: { origin: "http://evil.example" } });
    expect(cross.status).toBe(403);
    const fetchSite = await t.req("POST", "/api/v1/organizations", { name: "Evil" }, { cookie, headers: { "sec-fetch-site": "cross-site" } });
    expect(fetchSite.status).toBe(403);
    expect(snapshotDb(t.deps)).toBe(before);
    const same = await t.req("POST", "/api/v1/organizations", { name: "Good" }, { cookie, headers: { origin: "http://localhost", host: "localhost" } });
    expect(same.status).toBe(201);
  });

  test("bad login bodies → 400/422 and nothing changes", async () => {
    const before = snapshotDb(t.deps);
    expect((await t.req("POST", "/api/v1/auth/login", { email: "alice" })).status).toBe(422);
    expect((await t.req("POST", "/api/v1/auth/login", { email: 5, password: [] })).status).toBe(422);
    expect((await t.req("POST", "/api/v1/auth/login", undefined, { raw: "{nope", headers: { "content-type": "application/json" } })).status).toBe(400);
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("a deactivated user can no longer log in or use keys", async () => {
    const admin = await t.user("root", { admin: true });
    const bob = await t.user("bob");
    const r = await t.req("PATCH", `/api/v1/admin/users/${bob.id}`, { active: false }, { key: admin.key });
    expect(r).toMatchObject({ status: 200, body: { active: false } });
    expect((await login("bob", "password-bob")).status).toBe(401);
    expect((await t.req("GET", "/api/v1/organizations", undefined, { key: bob.key })).status).toBe(401);
  });
});
