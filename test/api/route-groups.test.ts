// `ancla serve`'s app mounts each module's route group on the first request that falls in it
// (src/route-groups.ts). What a client sees must not depend on which groups are mounted yet: the
// same requests to it and to createApp (every group at once) on the same database get the same
// status, content type and body, in any order, concurrently too; unknown API paths stay a JSON 404
// and the dashboard's catch-all never answers a path a group not yet mounted owns; the OpenAPI
// document is the whole app's; WebSocket routes upgrade on a live listener whose group mounts with
// the upgrade request itself.
import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { createApp } from "../../src/app";
import { listenApi } from "../../src/front";
import { SERVER_BODY_CAP } from "../../src/lib/body-limit";
import { createLazyApp } from "../../src/route-groups";
import { orgsWorld, snapshotDb, testApp, type OrgsWorld, type TestApp } from "../support/app";
import { EXEC_REFUSAL, execSocketRefusal } from "../support/exec-ws";

setDefaultTimeout(120_000);

let t: TestApp;
let w: OrgsWorld;

beforeEach(async () => {
  t = await testApp();
  w = await orgsWorld(t, { project: true });
});
afterEach(() => t.close());

type Ask = { method: string; path: string; key?: "owner" | "outsider"; body?: string; type?: string };
const ASKS: Ask[] = [
  { method: "GET", path: "/api/v1/auth/session" },
  { method: "GET", path: "/api/v1/auth/session", key: "owner" },
  { method: "GET", path: "/api/v1/organizations", key: "owner" },
  { method: "GET", path: "/api/v1/orgs/acme", key: "outsider" },
  { method: "GET", path: "/api/v1/orgs/acme/projects/web", key: "owner" },
  { method: "GET", path: "/api/v1/orgs/acme/projects/web/envs", key: "owner" },
  { method: "GET", path: "/api/v1/orgs/acme/projects/web/envs/production/services", key: "owner" },
  { method: "GET", path: "/api/v1/orgs/acme/projects/web/envs/production/services/nope/logs", key: "owner" },
  { method: "GET", path: "/api/v1/orgs/acme/projects/web/envs/production/services/nope/deploy-key", key: "owner" },
  { method: "GET", path: "/api/v1/orgs/acme/projects/web/config", key: "owner" },
  { method: "GET", path: "/api/v1/orgs/acme/projects/web/promotions" },
  { method: "GET", path: "/api/v1/applications/acme/web/nope", key: "owner" },
  { method: "GET", path: "/api/v1/status", key: "owner" },
  { method: "GET", path: "/api/v1/nope", key: "owner" },
  { method: "POST", path: "/api/v1/nope", key: "owner", body: "{}", type: "application/json" },
  { method: "GET", path: "/api/v1/orgs/acme/projects/web/nope", key: "owner" },
  { method: "GET", path: "/v1/orgs" },
  { method: "GET", path: "/some/dashboard/page" },
  { method: "GET", path: "/api/keys", key: "owner" },
  { method: "POST", path: "/api/v1/organizations", key: "owner", body: '{"name": ""}', type: "application/json" },
  { method: "POST", path: "/api/v1/orgs/acme/projects", key: "owner", body: "{not json", type: "application/json" },
  { method: "PATCH", path: "/api/v1/orgs/acme/projects/web/envs/production", key: "owner", body: '{"protected": "yes"}', type: "application/json" },
];

type App = { handle: (r: Request) => Promise<Response> };
async function ask(app: App, a: Ask): Promise<{ status: number; type: string | null; body: string }> {
  const headers: Record<string, string> = {};
  if (a.key) headers["x-api-key"] = w[a.key].key;
  if (a.type) headers["content-type"] = a.type;
  const res = await app.handle(new Request(`http://localhost${a.path}`, { method: a.method, headers, body: a.body }));
  const body = await res.text();
  // the dashboard's page embeds nothing per request; the request id is the only per-request header
  return { status: res.status, type: res.headers.get("content-type"), body };
}

describe("route groups mounted on first use answer as the whole app does", () => {
  test("one request at a time, each the first of its group, and again once mounted; nothing changes", async () => {
    const eager = createApp(t.deps);
    const lazy = createLazyApp(t.deps);
    const before = snapshotDb(t.deps);
    for (let round = 0; round < 2; round++) {
      for (const a of ASKS) expect([a.method, a.path, await ask(lazy, a)]).toEqual([a.method, a.path, await ask(eager, a)]);
    }
    expect(snapshotDb(t.deps)).toBe(before);
    // not the exec, images, backups … groups: nothing asked for them
    expect(lazy.mounted()).not.toContain("exec");
    expect(lazy.mounted()).not.toContain("backups");
    expect(lazy.mounted()).toContain("logs");
  });

  test("all at once on a fresh app: concurrent first requests mount their groups once and get the same answers", async () => {
    const eager = createApp(t.deps);
    const expected = await Promise.all(ASKS.map((a) => ask(eager, a)));
    const lazy = createLazyApp(t.deps);
    const got = await Promise.all(ASKS.map((a) => ask(lazy, a)));
    expect(got).toEqual(expected);
    expect(new Set(lazy.mounted()).size).toBe(lazy.mounted().length);
  });

  test("the first request mounts only the groups that may answer it (and the dashboard's catch-all)", async () => {
    const lazy = createLazyApp(t.deps);
    expect((await lazy.handle(new Request("http://localhost/api/v1/auth/session"))).status).toBe(200);
    expect(lazy.mounted().sort()).toEqual(["auth", "dashboard"]);
    // the catch-all is mounted, yet a path of a group not mounted reaches its group, not the SPA
    const res = await lazy.handle(new Request("http://localhost/api/v1/organizations", { headers: { "x-api-key": w.owner.key } }));
    expect(res.status).toBe(200);
    expect((await res.json()).map((o: { slug: string }) => o.slug)).toEqual(["acme"]);
  });

  test("the OpenAPI document is the whole app's, byte for byte, whatever is mounted", async () => {
    const eager = createApp(t.deps);
    const lazy = createLazyApp(t.deps);
    await lazy.handle(new Request("http://localhost/api/v1/auth/session"));
    for (const path of ["/api/v1/openapi.json", "/api/docs"]) {
      const [a, b] = await Promise.all([eager, lazy].map(async (app) => {
        const res = await app.handle(new Request(`http://localhost${path}`));
        return { status: res.status, type: res.headers.get("content-type"), body: await res.text() };
      }));
      expect(b).toEqual(a!);
      expect(a!.status).toBe(200);
    }
    const spec = (await (await lazy.handle(new Request("http://localhost/api/v1/openapi.json"))).json()) as { paths: Record<string, unknown> };
    expect(spec.paths["/api/v1/orgs/{org}/projects/{project}/envs/{env}/services/{svc}/logs"]).toBeDefined();
  });
});

test("on a live listener a WebSocket route's group mounts with the upgrade request, which then upgrades", async () => {
  const lazy = createLazyApp(t.deps);
  lazy.compile();
  const api = listenApi(t.deps, lazy, { hostname: "127.0.0.1", port: 0, reusePort: false, maxRequestBodySize: SERVER_BODY_CAP });
  try {
    const url = `http://127.0.0.1:${api.server.port}`;
    // another group first: its mount recompiles the app while the listener serves
    expect((await fetch(`${url}/api/v1/auth/session`)).status).toBe(200);
    expect(lazy.mounted()).not.toContain("exec");
    expect(await execSocketRefusal(url)).toEqual(EXEC_REFUSAL);
    expect(lazy.mounted()).toContain("exec");
    // and the front still answers, the app's routes too
    expect((await fetch(`${url}/api/v1/integrations/health`)).status).toBe(200);
    expect((await fetch(`${url}/api/v1/nope`)).status).toBe(404);
  } finally {
    await api.stop(true);
  }
});
