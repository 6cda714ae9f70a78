// The application list is cached until the database changes: every kind of write must show.
import { afterEach, beforeEach, expect, test, setDefaultTimeout } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { testApp, type TestApp } from "../support/app";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(60_000);

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
