// A malformed session cookie is no credential: 401 on protected routes (it used to be a 500 from
// decodeURIComponent), "not signed in" on the session probe, and logout still answers.
import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { testApp, type TestApp } from "../support/app";

setDefaultTimeout(180_000);

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
  await t.user("alice");
});
afterEach(() => t.close());

const MALFORMED = [
  "ancla_session=garbage",
  "ancla_session=" + "A".repeat(8192), // overlong
  "ancla_session=%ff%fe%fd", // percent escapes that are not UTF-8
  "ancla_session=%E0%A4%A", // truncated escape
  "ancla_session=%", // a lone percent sign
  "ancla_session=%00%0a",
  "ancla_session=\u00ff\u00fe", // raw bytes above ASCII
  "ancla_session=", // empty
  "ancla_session",
  "=; ancla_session=%zz; other=1",
  "ancla_session=" + "a".repeat(43) + "%", // token-shaped with a broken tail
];

describe("malformed session cookies", () => {
  test("every protected route answers 401 with the error body, never 500", async () => {
    for (const cookie of MALFORMED) {
      for (const [method, path] of [["GET", "/api/v1/organizations"], ["POST", "/api/v1/organizations"], ["GET", "/api/keys"]] as const) {
        const r = await t.req(method, path, method === "POST" ? { name: "X" } : undefined, { cookie });
        expect([cookie.slice(0, 40), method, path, r.status]).toEqual([cookie.slice(0, 40), method, path, 401]);
        expect(r.body).toEqual({ status: 401, message: expect.any(String) });
      }
    }
  });

  test("the session probe says signed out and logout still succeeds", async () => {
    for (const cookie of MALFORMED) {
      const s = await t.req("GET", "/api/v1/auth/session", undefined, { cookie });
      expect([cookie.slice(0, 40), s.status, s.body?.authenticated]).toEqual([cookie.slice(0, 40), 200, false]);
      const out = await t.req("POST", "/api/v1/auth/logout", undefined, { cookie });
      expect([cookie.slice(0, 40), out.status]).toEqual([cookie.slice(0, 40), 201]);
    }
  });

  test("a valid cookie still works next to a malformed one", async () => {
    const login = await t.req("POST", "/api/v1/auth/login", { email: "alice", password: "password-alice" });
    const good = login.headers.get("set-cookie")!.split(";")[0]!;
    const r = await t.req("GET", "/api/v1/organizations", undefined, { cookie: `junk=%ff; ${good}` });
    expect(r.status).toBe(200);
  });
});
