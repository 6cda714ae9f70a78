// The API listener's front handler (src/front.ts) answers repeated hot GETs from the answer cache
// and the health probe without entering Elysia. On a live server over 127.0.0.1 its answers are
// the normal path's byte for byte (status line, header names, order and values but the request id
// and date, body), they are counted in the same request metrics, the cache still ends at a write,
// `Connection: close` goes out while the server stops, and WebSocket routes still upgrade.
import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createApp } from "../../src/app";
import { frontFetch, listenApi, HEALTH_PATH, type Listener } from "../../src/front";
import { SERVER_BODY_CAP } from "../../src/lib/body-limit";
import { answerCacheHits } from "../../src/modules/auth/answer-cache";
import { testApp, type TestApp } from "../support/app";
import { EXEC_REFUSAL, execSocketRefusal } from "../support/exec-ws";

setDefaultTimeout(120_000);

let t: TestApp;
let member: { key: string };
let admin: { key: string };
let api: Listener;
let url: string;
/** A second server with the same front but a counter in front of the app: how many requests reached Elysia. */
let counted: ReturnType<typeof Bun.serve>;
let countedUrl: string;
let reachedApp = 0;

beforeEach(async () => {
  t = await testApp();
  const owner = await t.user("owner");
  member = await t.user("member");
  admin = await t.user("root", { admin: true });
  await t.req("POST", "/api/v1/organizations", { name: "Acme" }, { key: owner.key });
  await t.req("POST", "/api/v1/organizations/acme/members", { username: "member" }, { key: owner.key });
  const app = createApp(t.deps);
  api = listenApi(t.deps, app, { hostname: "127.0.0.1", port: 0, reusePort: false, maxRequestBodySize: SERVER_BODY_CAP });
  url = `http://127.0.0.1:${api.server.port}`;
  reachedApp = 0;
  counted = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: frontFetch(t.deps, { fetch: (r) => (reachedApp++, app.fetch(r)) }) });
  countedUrl = `http://127.0.0.1:${counted.port}`;
  // a key's first use records last_used_at (a write): start after it
  for (const k of [member.key, admin.key]) await fetch(url + "/api/v1/organizations", { headers: { "x-api-key": k } });
});
afterEach(async () => {
  await api.stop(true);
  counted.stop(true);
  t.close();
});

/** The raw HTTP/1.1 answer to one keep-alive GET: status line and headers as sent, and the body. */
async function raw(base: string, path: string, headers: Record<string, string> = {}): Promise<{ head: string[]; body: string }> {
  const { hostname, port } = new URL(base);
  const chunks: Buffer[] = [];
  let done: (v: { head: string[]; body: string }) => void = () => {};
  const result = new Promise<{ head: string[]; body: string }>((r) => (done = r));
  const tryParse = () => {
    const all = Buffer.concat(chunks);
    const end = all.indexOf("\r\n\r\n");
    if (end < 0) return;
    const head = all.subarray(0, end).toString("latin1").split("\r\n");
    const length = Number(head.find((h) => /^content-length:/i.test(h))?.split(":")[1] ?? NaN);
    if (all.length - end - 4 < length) return;
    done({ head, body: all.subarray(end + 4, end + 4 + length).toString("utf8") });
  };
  const socket = await Bun.connect({ hostname, port: Number(port), socket: { data: (_s, d) => (chunks.push(Buffer.from(d)), tryParse()) } });
  socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join("")}\r\n`);
  const r = await result;
  socket.end();
  return r;
}
/** The head with the values that differ per request masked (the request id, the date). */
const masked = (head: string[]) => head.map((h) => h.replace(/^(x-request-id|date):.*/i, "$1: *"));

async function metric(route: string): Promise<[number, number]> {
  const text = await (await fetch(url + "/metrics", { headers: { "x-api-key": admin.key } })).text();
  const esc = route.replace(/[/:]/g, (c) => `\\${c}`);
  const count = text.match(new RegExp(`^ancla_http_requests_total\\{method="GET",route="${esc}",status="200"\\} (\\d+)$`, "m"));
  const timed = text.match(new RegExp(`^ancla_http_request_duration_seconds_count\\{method="GET",route="${esc}"\\} (\\d+)$`, "m"));
  return [Number(count?.[1] ?? 0), Number(timed?.[1] ?? 0)];
}

describe("answered before Elysia, indistinguishable from the normal path", () => {
  test("health: the same status line, headers in the same order and body as Elysia's answer (the same route with a query)", async () => {
    const before = reachedApp;
    const front = await raw(countedUrl, HEALTH_PATH);
    expect(reachedApp).toBe(before); // the front answered
    const elysia = await raw(countedUrl, HEALTH_PATH + "?probe=1");
    expect(reachedApp).toBe(before + 1); // Elysia answered
    expect(front.head[0]).toBe("HTTP/1.1 200 OK");
    expect(front.body).toBe('{"status":"ok"}');
    expect(masked(front.head)).toEqual(masked(elysia.head));
    expect(front.body).toBe(elysia.body);
    expect(front.head.find((h) => /^x-request-id:/i.test(h))).toMatch(/^x-request-id: [0-9A-Za-z]{20}$/i);
    // a caller's request id is echoed, an unusable one replaced
    expect((await raw(url, HEALTH_PATH, { "x-request-id": "trace-42" })).head).toContain("x-request-id: trace-42");
    expect((await raw(url, HEALTH_PATH, { "x-request-id": "bad id with spaces" })).head.find((h) => h.startsWith("x-request-id"))).toMatch(/^x-request-id: [0-9A-Za-z]{20}$/);
  });

  test("a cached repeat: the same bytes and headers as the first (normal-path) answer, without reaching Elysia", async () => {
    for (const path of ["/api/v1/organizations", "/api/v1/organizations/acme", "/api/v1/orgs/acme"]) {
      const first = await raw(countedUrl, path, { "x-api-key": member.key });
      const reached = reachedApp;
      const hits = answerCacheHits(t.deps.sqlite);
      const again = await raw(countedUrl, path, { "x-api-key": member.key });
      expect(answerCacheHits(t.deps.sqlite)).toBe(hits + 1);
      expect(reachedApp).toBe(reached);
      expect(first.head[0]).toBe("HTTP/1.1 200 OK");
      expect(masked(again.head)).toEqual(masked(first.head));
      expect(again.body).toBe(first.body);
    }
  });

  test("both are counted in the request metrics, in the route's series", async () => {
    const health = await metric(HEALTH_PATH);
    const org = await metric("/api/v1/organizations/:org");
    for (let i = 0; i < 3; i++) expect((await fetch(url + HEALTH_PATH)).status).toBe(200);
    const hits = answerCacheHits(t.deps.sqlite);
    for (let i = 0; i < 3; i++) expect((await fetch(url + "/api/v1/organizations/acme", { headers: { "x-api-key": member.key } })).status).toBe(200);
    expect(answerCacheHits(t.deps.sqlite)).toBe(hits + 2);
    expect(await metric(HEALTH_PATH)).toEqual([health[0] + 3, health[1] + 3]);
    expect(await metric("/api/v1/organizations/:org")).toEqual([org[0] + 3, org[1] + 3]);
  });

  test("a write ends the cached answer at once: the next GET shows it", async () => {
    const get = async () => (await fetch(url + "/api/v1/organizations", { headers: { "x-api-key": member.key } })).json();
    await get();
    const before = (await get()) as { slug: string }[];
    expect(before.map((o) => o.slug)).toEqual(["acme"]);
    expect((await fetch(url + "/api/v1/organizations", { method: "POST", headers: { "x-api-key": member.key, "content-type": "application/json" }, body: JSON.stringify({ name: "Beta" }) })).status).toBe(201);
    const hits = answerCacheHits(t.deps.sqlite);
    const after = (await get()) as { slug: string }[];
    expect(answerCacheHits(t.deps.sqlite)).toBe(hits); // the normal path answered
    expect(after.map((o) => o.slug).sort()).toEqual(["acme", "beta"]);
  });

  test("another credential, no credential, HEAD, and a GET with a body length take the normal path", async () => {
    await raw(countedUrl, "/api/v1/organizations", { "x-api-key": member.key });
    const reached = reachedApp;
    expect((await raw(countedUrl, "/api/v1/organizations")).head[0]).toBe("HTTP/1.1 401 Unauthorized");
    expect((await raw(countedUrl, "/api/v1/organizations", { "x-api-key": admin.key })).head[0]).toBe("HTTP/1.1 200 OK");
    expect((await fetch(countedUrl + HEALTH_PATH, { method: "HEAD" })).status).toBeLessThan(500);
    expect((await raw(countedUrl, HEALTH_PATH, { "content-length": "0" })).body).toBe('{"status":"ok"}');
    expect(reachedApp).toBe(reached + 4);
  });
});

test("while the server stops, the front's answers say Connection: close like Elysia's", async () => {
  await raw(url, "/api/v1/organizations", { "x-api-key": member.key });
  t.deps.shutdown.abort();
  const hits = answerCacheHits(t.deps.sqlite);
  const cached = await raw(url, "/api/v1/organizations", { "x-api-key": member.key });
  expect(answerCacheHits(t.deps.sqlite)).toBe(hits + 1);
  const health = await raw(url, HEALTH_PATH);
  const elysia = await raw(url, HEALTH_PATH + "?probe=1");
  for (const r of [cached, health, elysia]) expect(r.head.map((h) => h.toLowerCase())).toContain("connection: close");
  expect(masked(health.head)).toEqual(masked(elysia.head));
});

test("WebSocket routes still upgrade through the listener (exec's socket answers its protocol)", async () => {
  expect(await execSocketRefusal(url)).toEqual(EXEC_REFUSAL);
});

test("at --log-level debug every request reaches the app (it writes the access line)", async () => {
  const d = await testApp({ logLevel: "debug" });
  try {
    const app = createApp(d.deps);
    let reached = 0;
    const server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: frontFetch(d.deps, { fetch: (r) => (reached++, app.fetch(r)) }) });
    try {
      for (let i = 0; i < 2; i++) expect(await (await fetch(`http://127.0.0.1:${server.port}${HEALTH_PATH}`)).text()).toBe('{"status":"ok"}');
      expect(reached).toBe(2);
    } finally {
      server.stop(true);
    }
  } finally {
    d.close();
  }
});

test("an app.compile() after start (Elysia reloads app.server with its own fetch) leaves the front and WebSocket upgrades in place", async () => {
  const app = createApp(t.deps);
  let reached = 0;
  const counting = {
    get fetch() {
      return (r: Request) => (reached++, app.fetch(r));
    },
    compile: () => app.compile(),
    get server() {
      return app.server;
    },
    set server(v) {
      app.server = v as typeof app.server;
    },
    modules: app.modules,
  };
  const l = listenApi(t.deps, counting, { hostname: "127.0.0.1", port: 0, reusePort: false, maxRequestBodySize: SERVER_BODY_CAP });
  try {
    const base = `http://127.0.0.1:${l.server.port}`;
    await Bun.sleep(50); // the compile after the promised modules settle has run
    app.compile(); // and another one, later
    expect(await (await fetch(base + HEALTH_PATH)).text()).toBe('{"status":"ok"}');
    expect(reached).toBe(0); // the front answered
    expect((await fetch(base + "/api/v1/organizations")).status).toBe(401); // through the front to the app
    expect(reached).toBe(1);
    const ws = new WebSocket(`${base.replace(/^http/, "ws")}/api/v1/exec/ws`);
    const closed = new Promise<number>((resolve) => (ws.onclose = (e) => resolve(e.code)));
    ws.onopen = () => ws.send("not json");
    expect(await closed).toBe(4401);
  } finally {
    await l.stop(true);
  }
});
