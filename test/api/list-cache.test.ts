// The application list is cached until the database changes: every kind of write must show.
import { afterEach, beforeEach, expect, test, setDefaultTimeout } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { testApp, type TestApp } from "../support/app";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

let t: TestApp;
let key: string;
const list = async () => (await t.req("GET", "/api/v1/applications/acme/web", undefined, { key })).body as { slug: string; platform: string }[];

beforeEach(async () => {
  t = await testApp();
  key = (await t.user("owner")).key;
  await t.req("POST", "/api/v1/organizations", { name: "Acme" }, { key });
  await t.req("POST", "/api/v1/projects", { name: "Web", organization_id: "acme" }, { key });
  await t.req("POST", "/api/v1/applications/acme/web", { name: "api" }, { key });
});
afterEach(() => t.close());

test("creates, updates and deletes through the API show in the next list", async () => {
  expect((await list()).map((a) => a.slug)).toEqual(["api"]);
  await t.req("POST", "/api/v1/applications/acme/web", { name: "worker" }, { key });
  expect((await list()).map((a) => a.slug).sort()).toEqual(["api", "worker"]);
  expect((await t.req("PATCH", "/api/v1/applications/acme/web/api", { platform: "steam" }, { key })).status).toBe(200);
  expect((await list()).find((a) => a.slug === "api")?.platform).toBe("steam");
  await t.req("DELETE", "/api/v1/applications/acme/web/worker", undefined, { key });
  expect((await list()).map((a) => a.slug)).toEqual(["api"]);
});

test("a write by another process (e.g. an admin command) shows too", async () => {
  expect((await list())[0]!.platform).toBe("wind");
  const other = new Database(join(t.dataDir, "ancla.db"));
  other.exec("PRAGMA busy_timeout = 5000");
  other.query("update services set platform = 'nuclear' where slug = 'api'").run();
  other.close();
  expect((await list())[0]!.platform).toBe("nuclear");
});

test("the cached list is answered per caller's access: other organizations still get 404", async () => {
  await list();
  const stranger = (await t.user("stranger")).key;
  expect((await t.req("GET", "/api/v1/applications/acme/web", undefined, { key: stranger })).status).toBe(404);
  expect((await t.req("GET", "/api/v1/applications/acme/web")).status).toBe(401);
});

// The environment's deployments list and a service's resolved config are kept as JSON until the
// next write too: writes through the server's connection and by another process must both show.
const ENV = "/api/v1/orgs/acme/projects/web/envs/production";
const deploymentsOf = async () => (await t.req("GET", `${ENV}/deployments`, undefined, { key })).body as { status: string; version: number }[];
const resolved = async () => (await t.req("GET", `${ENV}/services/api/config/resolved`, undefined, { key })).body as { name: string; value: string; scope: string }[];

/** A complete release and a deployment of it for service `api`, written directly (no Docker). */
function insertDeployment(db: Database, version: number, status: string) {
  const svc = db.query("select id from services where slug = 'api'").get() as { id: string };
  const now = new Date(Date.UTC(2026, 0, 1, 0, version)).toISOString();
  const rel = crypto.randomUUID();
  db.query(
    "insert into releases (id, service_id, version, status, image_ref, processes, config, port, health_check_path, image_changes, configuration_changes, created_at, updated_at) values (?, ?, ?, 'complete', 'img', '{}', '[]', 8000, '/', '{}', '{}', ?, ?)",
  ).run(rel, svc.id, version, now, now);
  db.query("insert into deployments (id, service_id, release_id, version, kind, status, metadata, created_at, updated_at) values (?, ?, ?, ?, 'deploy', ?, '{}', ?, ?)").run(
    crypto.randomUUID(),
    svc.id,
    rel,
    version,
    status,
    now,
    now,
  );
}

test("deployments list: a deployment and a status change, by the server and by another process, show in the next list", async () => {
  expect(await deploymentsOf()).toEqual([]);
  insertDeployment(t.deps.sqlite, 1, "running"); // the server's own connection (what the deploy runner uses)
  expect((await deploymentsOf()).map((d) => [d.version, d.status])).toEqual([[1, "running"]]);
  t.deps.sqlite.query("update deployments set status = 'complete' where version = 1").run();
  expect((await deploymentsOf()).map((d) => [d.version, d.status])).toEqual([[1, "complete"]]);
  const other = new Database(join(t.dataDir, "ancla.db"));
  other.exec("PRAGMA busy_timeout = 5000");
  insertDeployment(other, 2, "error");
  other.close();
  expect((await deploymentsOf()).map((d) => [d.version, d.status])).toEqual([
    [2, "error"],
    [1, "complete"],
  ]);
  // the same bytes the uncached view gives: each item has its release summary
  const [latest] = (await t.req("GET", `${ENV}/deployments`, undefined, { key })).body as { release: { version: number; platform: string } }[];
  expect(latest!.release).toMatchObject({ version: 2, platform: "wind" });
});

test("resolved config: sets, updates and deletes at any scope, and another process's write, show in the next answer", async () => {
  expect(await resolved()).toEqual([]);
  expect((await t.req("POST", "/api/v1/orgs/acme/config", { name: "LEVEL", value: "org" }, { key })).status).toBe(201);
  expect((await resolved()).map((v) => [v.name, v.value, v.scope])).toEqual([["LEVEL", "org", "organization"]]);
  expect((await t.req("POST", `${ENV}/services/api/config`, { name: "LEVEL", value: "svc" }, { key })).status).toBe(201);
  expect((await resolved()).map((v) => [v.name, v.value, v.scope])).toEqual([["LEVEL", "svc", "service"]]);
  const other = new Database(join(t.dataDir, "ancla.db"));
  other.exec("PRAGMA busy_timeout = 5000");
  other.query("update config_vars set value = 'changed' where scope = 'service'").run();
  other.close();
  expect((await resolved()).map((v) => v.value)).toEqual(["changed"]);
  expect((await t.req("DELETE", `${ENV}/services/api/config/LEVEL`, undefined, { key })).status).toBe(200);
  expect((await resolved()).map((v) => [v.value, v.scope])).toEqual([["org", "organization"]]);
});

test("the cached deployments list and resolved config still answer per caller: 404 for strangers, 401 anonymous", async () => {
  await deploymentsOf();
  await resolved();
  const stranger = (await t.user("stranger")).key;
  for (const path of [`${ENV}/deployments`, `${ENV}/services/api/config/resolved`]) {
    expect((await t.req("GET", path, undefined, { key: stranger })).status).toBe(404);
    expect((await t.req("GET", path)).status).toBe(401);
  }
});
