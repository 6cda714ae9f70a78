// src/route-groups.ts's table says which paths each route group may answer, without evaluating the
// group's module. It may claim more than a group answers, never less: a route it misses would be
// answered by the dashboard's catch-all (or 404) until something else mounted its group. Checked
// here against the groups themselves and against createApp, which mounts every group at once.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Elysia } from "elysia";
import { createApp } from "../../src/app";
import { serveConfigSchema } from "../../src/config";
import { closeDeps, createDeps } from "../../src/deps";
import { silentLogger } from "../../src/lib/logger";
import { DOCS_PATHS, groupsFor, isDocsPath, ROUTE_GROUPS } from "../../src/route-groups";

setDefaultTimeout(60_000);

const dataDir = mkdtempSync(join(tmpdir(), "ancla-route-groups-"));
const deps = createDeps(serveConfigSchema.parse({ dataDir }), { logger: silentLogger });
afterAll(() => {
  closeDeps(deps);
  rmSync(dataDir, { recursive: true, force: true });
});

/** A concrete path a route template answers: each parameter a value, a wildcard some rest. */
const concrete = (template: string) => template.replace(/:\w+/g, "x1").replace(/\*$/, "some/page");
const routesOf = (app: { routes: { method: string; path: string }[] }) => app.routes.map((r) => `${r.method} ${r.path}`);

const groups = await Promise.all(ROUTE_GROUPS.map(async (g) => ({ name: g.name, routes: routesOf(new Elysia().use((await g.load())(deps))) })));

describe("the route group table (src/route-groups.ts)", () => {
  for (const [i, g] of groups.entries()) {
    test(`claims every route of the ${g.name} group`, () => {
      expect(g.routes.length).toBeGreaterThan(0);
      const missed = g.routes.filter((r) => !groupsFor(concrete(r.split(" ")[1]!)).includes(i));
      expect(missed).toEqual([]);
    });
  }

  test("the groups and the docs are exactly the routes createApp mounts, none in two groups", () => {
    const all = routesOf(createApp(deps) as never);
    const grouped = groups.flatMap((g) => g.routes);
    expect(new Set(grouped).size).toBe(grouped.length); // a route in two groups: which one answers would depend on mount order
    const docs = all.filter((r) => !grouped.includes(r));
    expect(docs.length).toBeGreaterThan(0);
    expect(docs.filter((r) => !isDocsPath(concrete(r.split(" ")[1]!)))).toEqual([]);
    expect(grouped.filter((r) => !all.includes(r))).toEqual([]);
    expect(new Set(grouped.concat(docs))).toEqual(new Set(all));
  });

  test("a path no module answers falls to the dashboard alone; a trailing slash does not count", () => {
    const names = (path: string) => groupsFor(path).map((i) => ROUTE_GROUPS[i]!.name);
    expect(names("/api/v1/nope")).toEqual(["dashboard"]);
    expect(names("/some/page")).toEqual(["dashboard"]);
    expect(names("/api/v1/auth/session")).toEqual(["auth", "dashboard"]);
    expect(names("/api/v1/organizations/")).toEqual(["orgs", "dashboard"]);
    expect(names("/api/v1/orgs/acme/projects/web/envs/prod/services/api/logs")).toEqual(["logs", "dashboard"]);
    expect(names("/api/v1/orgs/acme/projects/web/envs/prod/services/api/deploy-key")).toEqual(["integrations", "dashboard"]);
    // `deploy` is its own segment: deploy-key above is not the deployments group's
    expect(names("/api/v1/orgs/acme/projects/web/envs/prod/services/api/deploy")).toEqual(["deployments", "dashboard"]);
    expect(DOCS_PATHS.every(isDocsPath)).toBe(true);
    expect(isDocsPath("/api/v1/openapi.jsonx")).toBe(false);
  });
});
