// Hostname ownership: names under --domain are reserved for generated app hostnames (no takeover
// of another organization's), custom domains have one owner decided by a unique index (409), the
// router's host map follows the owners whatever the query order, and the per-service upstream
// timeout is a setting on both route families.
import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { snapshotDb, testApp, type TestApp } from "../support/app";
import { refreshHosts } from "../../src/modules/deployments/routing";
import { routeTableOf } from "../../src/router/table";

setDefaultTimeout(180_000);

let t: TestApp;
let mine: string, theirs: string;
const base = "/api/v1/orgs/acme/projects/web/envs/production/services";
const otherBase = "/api/v1/orgs/other/projects/shop/envs/production/services";

async function setup(config: Record<string, unknown> = {}) {
  t = await testApp(config);
  mine = (await t.user("owner")).key;
  theirs = (await t.user("rival")).key;
  await t.req("POST", "/api/v1/organizations", { name: "Acme" }, { key: mine });
  await t.req("POST", "/api/v1/organizations", { name: "Other" }, { key: theirs });
  await t.req("POST", "/api/v1/projects/acme", { name: "Web" }, { key: mine });
  await t.req("POST", "/api/v1/projects/other", { name: "Shop" }, { key: theirs });
  expect((await t.req("POST", otherBase, { name: "api" }, { key: theirs })).status).toBe(201);
}
afterEach(() => t.close());

describe("custom domains under --domain (default localhost)", () => {
  beforeEach(() => setup());

  test("another organization's generated hostname is refused (422), long and short form, on create and patch", async () => {
    const before = snapshotDb(t.deps);
    for (const name of ["api.production.shop.other.localhost", "API.shop.other.localhost."]) {
      const r = await t.req("POST", base, { name: "thief", domains: [name] }, { key: mine });
      expect(r.status).toBe(422);
      expect(r.body.message).toContain("reserved for generated app hostnames");
    }
    expect(snapshotDb(t.deps)).toBe(before);
    expect((await t.req("POST", base, { name: "thief" }, { key: mine })).status).toBe(201);
    const p = await t.req("PATCH", `${base}/thief`, { domains: ["api.shop.other.localhost"] }, { key: mine });
    expect(p.status).toBe(422);
    refreshHosts(t.deps);
    expect(routeTableOf(t.deps).serviceFor("api.shop.other.localhost")).not.toBe((await t.req("GET", `${base}/thief`, undefined, { key: mine })).body.id);
  });

  test("any name under --domain, and the base domain itself, is refused; the service's own generated names are accepted", async () => {
    for (const name of ["localhost", "anything.localhost", "future.production.web.acme.localhost"]) {
      expect((await t.req("POST", base, { name: "app", domains: [name] }, { key: mine })).status).toBe(422);
    }
    const own = await t.req("POST", base, { name: "app", domains: ["app.web.acme.localhost", "app.production.web.acme.localhost", "app.example.com"] }, { key: mine });
    expect(own.status).toBe(201);
    // renaming makes the old generated names someone else's future names
    expect((await t.req("PATCH", `${base}/app`, { slug: "renamed", domains: ["app.web.acme.localhost"] }, { key: mine })).status).toBe(422);
  });

  test("a custom domain has one owner across the server (409, case-insensitive), and a refused write changes nothing", async () => {
    expect((await t.req("POST", otherBase, { name: "shopfront", domains: ["shop.example.com"] }, { key: theirs })).status).toBe(201);
    const before = snapshotDb(t.deps);
    const dup = await t.req("POST", base, { name: "copy", domains: ["www.example.com", "SHOP.Example.com"] }, { key: mine });
    expect(dup.status).toBe(409);
    expect(dup.body.message).toContain("shop.example.com");
    expect(snapshotDb(t.deps)).toBe(before);
    expect((await t.req("POST", base, { name: "copy", domains: ["www.example.com"] }, { key: mine })).status).toBe(201);
    const patch = await t.req("PATCH", `${base}/copy`, { domains: ["new.example.com", "shop.example.com"] }, { key: mine });
    expect(patch.status).toBe(409);
    const rows = () => t.deps.sqlite.query("select hostname, service_id from service_domains order by hostname").all() as { hostname: string }[];
    expect(rows().map((r) => r.hostname)).toEqual(["shop.example.com", "www.example.com"]);
    // freeing a name lets another service take it; deleting a service frees its names
    expect((await t.req("PATCH", `${otherBase}/shopfront`, { domains: [] }, { key: theirs })).status).toBe(200);
    expect((await t.req("PATCH", `${base}/copy`, { domains: ["shop.example.com"] }, { key: mine })).status).toBe(200);
    expect((await t.req("DELETE", `${base}/copy`, undefined, { key: mine })).status).toBe(200);
    expect(rows()).toEqual([]);
  });

  test("hostname validation: lowercase DNS names only; wildcards, IP literals, underscores and single labels → 422", async () => {
    for (const bad of ["*.example.com", "10.0.0.1", "[::1]", "::1", "under_score.example.com", "intranet", "a..example.com", "-x.example.com", "x.example.com:80"]) {
      const r = await t.req("POST", base, { name: "v", domains: [bad] }, { key: mine });
      expect({ bad, status: r.status }).toEqual({ bad, status: 422 });
    }
    const ok = await t.req("POST", base, { name: "v", domains: ["Xn--Bcher-Kva.Example."] }, { key: mine });
    expect(ok.body.domains).toEqual(["xn--bcher-kva.example"]);
  });
});

describe("custom domains under a real --domain", () => {
  beforeEach(() => setup({ domain: "apps.example.com" }));

  test("names under it are refused; the parent domain and its other subdomains are free", async () => {
    for (const name of ["apps.example.com", "x.apps.example.com", "api.shop.other.apps.example.com"]) {
      expect((await t.req("POST", base, { name: "a", domains: [name] }, { key: mine })).status).toBe(422);
    }
    expect((await t.req("POST", base, { name: "a", domains: ["example.com", "www.example.com", "myapps.example.com"] }, { key: mine })).status).toBe(201);
  });
});

describe("the router's host map", () => {
  beforeEach(() => setup());

  test("owners come from the unique table, never from query order; names under --domain stay with their generated owner", async () => {
    const a = (await t.req("POST", base, { name: "a", domains: ["a.example.com"] }, { key: mine })).body.id;
    const b = (await t.req("POST", base, { name: "b" }, { key: mine })).body.id;
    const victim = (await t.req("GET", `${otherBase}/api`, undefined, { key: theirs })).body.id;
    // rows written before the rules existed: b lists a's domain and the victim's generated name
    t.deps.sqlite.run("update services set domains = ? where id = ?", [JSON.stringify(["a.example.com", "api.shop.other.localhost"]), b]);
    t.deps.sqlite.run("insert into service_domains (hostname, service_id, created_at) values ('api.shop.other.localhost', ?, '2020-01-01')", [b]);
    for (const order of ["asc", "desc"]) {
      t.deps.sqlite.run(`pragma reverse_unordered_selects = ${order === "desc" ? 1 : 0}`);
      refreshHosts(t.deps);
      const table = routeTableOf(t.deps);
      expect(table.serviceFor("a.example.com")).toBe(a);
      expect(table.serviceFor("api.shop.other.localhost")).toBe(victim);
      expect(table.serviceFor("api.production.shop.other.localhost")).toBe(victim);
    }
  });
});

describe("upstream_timeout", () => {
  beforeEach(() => setup());

  test("defaults to 60 s, set through both settings routes (null resets), out of range → 422, reaches the router table", async () => {
    const created = await t.req("POST", base, { name: "slow" }, { key: mine });
    expect(created.body.upstream_timeout).toBe(60);
    const id = created.body.id;
    expect((await t.req("PATCH", `${base}/slow`, { upstream_timeout: 5 }, { key: mine })).body.upstream_timeout).toBe(5);
    refreshHosts(t.deps);
    expect(routeTableOf(t.deps).upstreamTimeoutMs(id)).toBe(5000);
    const viaSettings = await t.req("PATCH", `/api/v1/applications/${id}/settings`, { upstream_timeout: 120 }, { key: mine });
    expect(viaSettings.status).toBe(200);
    expect(viaSettings.body.upstream_timeout).toBe(120);
    expect((await t.req("PATCH", `/api/v1/applications/acme/web/slow/settings`, { upstream_timeout: null }, { key: mine })).body.upstream_timeout).toBe(60);
    for (const bad of [0, -1, 3601, 1.5, "10"]) {
      expect((await t.req("PATCH", `${base}/slow`, { upstream_timeout: bad }, { key: mine })).status).toBe(422);
    }
  });
});
