// Repeated authenticated GETs of the hot read routes are answered from memory until the next write
// (src/modules/auth/answer-cache.ts). Every test first proves the repeat was answered from the
// cache (the hit counter moved), then that it is the same answer the normal path gives and that
// every kind of change ends it at once.
import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { testApp, type TestApp, type TestResponse } from "../support/app";
import { answerCacheHits } from "../../src/modules/auth/answer-cache";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

let t: TestApp;
let owner: { id: string; key: string };
let member: { id: string; key: string };

const ENV = "/api/v1/orgs/acme/projects/web/envs/production";
const ROUTES = [
  "/api/v1/organizations",
  "/api/v1/orgs",
  "/api/v1/organizations/acme",
  "/api/v1/orgs/acme",
  "/api/v1/applications/acme/web",
  `${ENV}/deployments`,
  `${ENV}/services/api/config/resolved`,
];

const hits = () => answerCacheHits(t.deps.sqlite);
const get = (path: string, opts: { key?: string; cookie?: string; headers?: Record<string, string> } = {}) => t.req("GET", path, undefined, opts);

/** The request answered from the cache: asserts the hit counter moved by one. */
async function cachedGet(path: string, opts: { key?: string; cookie?: string; headers?: Record<string, string> } = {}): Promise<TestResponse> {
  const before = hits();
  const r = await get(path, opts);
  expect(hits()).toBe(before + 1);
  return r;
}

/** The request took the normal path. */
async function uncachedGet(path: string, opts: { key?: string; cookie?: string; headers?: Record<string, string> } = {}): Promise<TestResponse> {
  const before = hits();
  const r = await get(path, opts);
  expect(hits()).toBe(before);
  return r;
}

/** First GET fills (normal path), the second is answered from the cache. */
async function warm(path: string, opts: { key?: string; cookie?: string } = {}): Promise<TestResponse> {
  await get(path, opts);
  return cachedGet(path, opts);
}

function otherProcess(sql: string, ...params: string[]) {
  const db = new Database(join(t.dataDir, "ancla.db"));
  db.exec("PRAGMA busy_timeout = 5000");
  db.query(sql).run(...params);
  db.close();
}

async function login(username: string): Promise<string> {
  const r = await t.req("POST", "/api/v1/auth/login", { email: `${username}@example.test`, password: `password-${username}` });
  expect(r.status).toBe(201);
  return r.headers.get("set-cookie")!.split(";")[0]!;
}

beforeEach(async () => {
  t = await testApp();
  owner = await t.user("owner");
  member = await t.user("member");
  const key = owner.key;
  await t.req("POST", "/api/v1/organizations", { name: "Acme" }, { key });
  await t.req("POST", "/api/v1/organizations/acme/members", { username: "member" }, { key });
  await t.req("POST", "/api/v1/projects", { name: "Web", organization_id: "acme" }, { key });
  await t.req("POST", "/api/v1/applications/acme/web", { name: "api" }, { key });
  expect((await t.req("POST", `${ENV}/services/api/config`, { name: "GREETING", value: "hello" }, { key })).status).toBe(201);
  // a key's first use records last_used_at (a write); start every test after it
  await get("/api/v1/organizations", { key: owner.key });
  await get("/api/v1/organizations", { key: member.key });
});
afterEach(() => t.close());

describe("the same answer both ways", () => {
  test("every cached route: same status, bytes and content type as the normal path, its own request id", async () => {
    for (const path of ROUTES) {
      const first = await get(path, { key: member.key });
      expect(first.status).toBe(200);
      const again = await cachedGet(path, { key: member.key });
      expect(again.status).toBe(200);
      expect(again.text).toBe(first.text);
      expect([...again.headers.keys()].sort()).toEqual([...first.headers.keys()].sort());
      expect(again.headers.get("content-type")).toBe(first.headers.get("content-type"));
      expect(again.headers.get("x-request-id")).toMatch(/^[0-9A-Za-z]{20}$/);
      expect(again.headers.get("x-request-id")).not.toBe(first.headers.get("x-request-id"));
    }
  });

  test("a caller's X-Request-Id is echoed by a cached answer too", async () => {
    await warm("/api/v1/organizations/acme", { key: member.key });
    const r = await cachedGet("/api/v1/organizations/acme", { key: member.key, headers: { "x-request-id": "trace-42" } });
    expect(r.headers.get("x-request-id")).toBe("trace-42");
  });

  test("requests answered from the cache are counted in the request metrics like the others", async () => {
    const admin = (await t.user("root", { admin: true })).key;
    const metric = async (route: string) => {
      const text = (await get("/metrics", { key: admin })).text;
      const count = text.match(new RegExp(`^ancla_http_requests_total\\{method="GET",route="${route}",status="200"\\} (\\d+)$`, "m"));
      const timed = text.match(new RegExp(`^ancla_http_request_duration_seconds_count\\{method="GET",route="${route}"\\} (\\d+)$`, "m"));
      return [Number(count?.[1] ?? 0), Number(timed?.[1] ?? 0)];
    };
    const route = "/api/v1/organizations/:org";
    const [before] = await metric(route);
    await warm("/api/v1/organizations/acme", { key: member.key });
    await cachedGet("/api/v1/organizations/acme", { key: member.key });
    // the normal path counts after its response is sent: wait for it
    for (let i = 0; i < 100 && (await metric(route))[0] !== before! + 3; i++) await Bun.sleep(20);
    expect(await metric(route)).toEqual([before! + 3, before! + 3]);
  });

  test("only GET, only 200, only credentials that were accepted, only the listed routes", async () => {
    await warm("/api/v1/organizations", { key: member.key });
    // HEAD and other methods never come from the cache
    const before = hits();
    expect((await t.req("POST", "/api/v1/organizations", { name: "Beta" }, { key: member.key })).status).toBe(201);
    expect(hits()).toBe(before);
    // a 404 is not kept: a repeat is answered by the normal path again
    await get("/api/v1/organizations/nope", { key: member.key });
    expect((await uncachedGet("/api/v1/organizations/nope", { key: member.key })).status).toBe(404);
    // an unlisted route (the caller's keys) is not kept
    await get("/api/keys", { key: member.key });
    expect((await uncachedGet("/api/keys", { key: member.key })).status).toBe(200);
    // a wrong key is never answered from another key's entry
    expect((await uncachedGet("/api/v1/organizations", { key: "ancla_" + "x".repeat(40) })).status).toBe(401);
    expect((await uncachedGet("/api/v1/organizations")).status).toBe(401);
  });

  test("answers are per credential: another user's key sees only what it may", async () => {
    await warm("/api/v1/organizations/acme", { key: member.key });
    const stranger = (await t.user("stranger")).key;
    expect((await get("/api/v1/organizations/acme", { key: stranger })).status).toBe(404);
    expect((await uncachedGet("/api/v1/organizations/acme", { key: stranger })).status).toBe(404);
    expect(((await get("/api/v1/organizations", { key: stranger })).body as unknown[]).length).toBe(0);
  });

  test("a read-only key is answered from the cache, and its writes still answer 403", async () => {
    const created = await t.req("POST", "/api/keys", { name: "ro", scopes: ["read"] }, { key: member.key });
    const ro = created.body.key as string;
    await get("/api/v1/organizations/acme", { key: ro }); // first use: last_used_at
    const r = await warm("/api/v1/organizations/acme", { key: ro });
    expect(r.body.slug).toBe("acme");
    expect((await t.req("PATCH", "/api/v1/organizations/acme", { name: "X" }, { key: ro })).status).toBe(403);
  });
});

describe("every change ends cached answers at once", () => {
  test("a write through the API", async () => {
    expect((await warm("/api/v1/organizations", { key: owner.key })).body.map((o: { slug: string }) => o.slug)).toEqual(["acme"]);
    await t.req("POST", "/api/v1/organizations", { name: "Beta" }, { key: owner.key });
    const r = await uncachedGet("/api/v1/organizations", { key: owner.key });
    expect(r.body.map((o: { slug: string }) => o.slug).sort()).toEqual(["acme", "beta"]);
  });

  test("a write through the server's own connection (the deploy runner's path)", async () => {
    await warm("/api/v1/organizations/acme", { key: member.key });
    t.deps.sqlite.query("update organizations set name = 'Renamed' where slug = 'acme'").run();
    expect((await uncachedGet("/api/v1/organizations/acme", { key: member.key })).body.name).toBe("Renamed");
    expect((await cachedGet("/api/v1/organizations/acme", { key: member.key })).body.name).toBe("Renamed");
  });

  test("a write by another process (e.g. ancla admin …)", async () => {
    await warm(`${ENV}/services/api/config/resolved`, { key: member.key });
    otherProcess("update organizations set name = 'Elsewhere' where slug = 'acme'");
    expect((await uncachedGet("/api/v1/organizations/acme", { key: member.key })).body.name).toBe("Elsewhere");
  });

  test("a revoked key answers 401 at once, through the API and by another process", async () => {
    const extra = await t.req("POST", "/api/keys", { name: "extra" }, { key: member.key });
    const k = extra.body.key as string;
    await get("/api/v1/organizations", { key: k });
    await warm("/api/v1/organizations", { key: k });
    expect((await t.req("POST", `/api/keys/${extra.body.key_id}/revoke`, undefined, { key: member.key })).status).toBe(204);
    expect((await uncachedGet("/api/v1/organizations", { key: k })).status).toBe(401);

    await warm("/api/v1/organizations", { key: member.key });
    otherProcess("update api_keys set is_active = 0 where user_id = ?", member.id);
    expect((await uncachedGet("/api/v1/organizations", { key: member.key })).status).toBe(401);
  });

  test("a removed member gets 404 at once; a role change shows at once", async () => {
    await warm("/api/v1/organizations/acme", { key: member.key });
    expect((await t.req("POST", `/api/v1/organizations/acme/members/${member.id}/toggle-admin`, undefined, { key: owner.key })).status).toBe(201);
    const detail = (await uncachedGet("/api/v1/organizations/acme", { key: member.key })).body as { members: { user_id: string; admin: boolean }[] };
    expect(detail.members.find((m) => m.user_id === member.id)?.admin).toBe(true);
    await warm("/api/v1/organizations/acme", { key: member.key });
    expect((await t.req("DELETE", `/api/v1/organizations/acme/members/${member.id}`, undefined, { key: owner.key })).status).toBe(200);
    expect((await uncachedGet("/api/v1/organizations/acme", { key: member.key })).status).toBe(404);
  });

  test("a deactivated user (another process) is refused at once", async () => {
    await warm("/api/v1/organizations", { key: member.key });
    otherProcess("update users set active = 0 where id = ?", member.id);
    expect((await uncachedGet("/api/v1/organizations", { key: member.key })).status).toBe(401);
  });
});

describe("time: no write needed", () => {
  test("a key stops working at its expiry instant", async () => {
    const now = Date.now();
    t.deps.clock = { now: () => new Date(now) };
    const expiresAt = new Date(now + 30_000).toISOString();
    const created = await t.req("POST", "/api/keys", { name: "short", expires_at: expiresAt }, { key: member.key });
    const k = created.body.key as string;
    await get("/api/v1/organizations/acme", { key: k });
    await warm("/api/v1/organizations/acme", { key: k });
    t.deps.clock = { now: () => new Date(now + 29_999) };
    expect((await cachedGet("/api/v1/organizations/acme", { key: k })).status).toBe(200);
    t.deps.clock = { now: () => new Date(now + 30_000) };
    expect((await uncachedGet("/api/v1/organizations/acme", { key: k })).status).toBe(401);
  });

  test("a session stops working at its expiry instant, and at once on logout", async () => {
    const now = Date.now();
    t.deps.clock = { now: () => new Date(now) };
    const cookie = await login("member");
    const expiresAt = (t.deps.sqlite.query("select expires_at from sessions").get() as { expires_at: string }).expires_at;
    const r = await warm("/api/v1/organizations/acme", { cookie });
    expect(r.body.slug).toBe("acme");
    t.deps.clock = { now: () => new Date(new Date(expiresAt).getTime() - 1) };
    expect((await cachedGet("/api/v1/organizations/acme", { cookie })).status).toBe(200);
    t.deps.clock = { now: () => new Date(expiresAt) };
    expect((await uncachedGet("/api/v1/organizations/acme", { cookie })).status).toBe(401);

    t.deps.clock = { now: () => new Date(now) };
    const second = await login("member");
    await warm("/api/v1/organizations/acme", { cookie: second });
    expect((await t.req("POST", "/api/v1/auth/logout", undefined, { cookie: second })).status).toBe(201);
    expect((await uncachedGet("/api/v1/organizations/acme", { cookie: second })).status).toBe(401);
  });

  test("a key's last use is still recorded once a minute", async () => {
    const now = Date.now();
    t.deps.clock = { now: () => new Date(now) };
    await get("/api/v1/organizations", { key: member.key }); // records last_used_at = now when older
    await warm("/api/v1/organizations", { key: member.key });
    const lastUsed = () => (t.deps.sqlite.query("select last_used_at from api_keys where user_id = ?").get(member.id) as { last_used_at: string }).last_used_at;
    const recorded = lastUsed();
    t.deps.clock = { now: () => new Date(new Date(recorded).getTime() + 60_001) };
    expect((await uncachedGet("/api/v1/organizations", { key: member.key })).status).toBe(200);
    expect(lastUsed()).toBe(new Date(new Date(recorded).getTime() + 60_001).toISOString());
  });
});

test("at --log-level debug nothing is answered from the cache (every request gets its access line)", async () => {
  t.close();
  t = await testApp({ logLevel: "debug" });
  const u = await t.user("solo");
  await t.req("POST", "/api/v1/organizations", { name: "Solo" }, { key: u.key });
  for (let i = 0; i < 3; i++) expect((await uncachedGet("/api/v1/organizations", { key: u.key })).status).toBe(200);
});

test("while the server stops, a cached answer says Connection: close like the others", async () => {
  await warm("/api/v1/organizations", { key: member.key });
  t.deps.shutdown.abort();
  const r = await cachedGet("/api/v1/organizations", { key: member.key });
  expect(r.headers.get("connection")).toBe("close");
});
