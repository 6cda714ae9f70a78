// The API as `ancla serve` runs it: app-core.ts's app (the global hooks, no route) with each
// module's route group mounted on the first request that falls in it. A group's module is evaluated
// only then (a dynamic import: a compiled binary evaluates it when the import runs), so a start
// evaluates and composes what it answers instead of ~300 routes before the first answer.
//
// ROUTE_GROUPS says, without evaluating a module, which paths each group may answer: path prefixes
// by segment (`:x` is any one segment; a trailing `$` means the path ends there, a trailing slash
// allowed). It may claim more than a group answers (a request then mounts one group too many), never
// less: test/unit/route-groups.test.ts checks every route of every group against it and that the
// groups are exactly the routes `createApp` mounts. Before a request reaches the app, every group
// that may answer it is mounted and the app recompiled (Elysia's router does not depend on the order
// routes were added in; a request already dispatched keeps its handler). The dashboard's group, with
// the catch-all that serves the SPA for any other GET path (and a JSON 404 for API-like ones), is
// mounted with the first request: it answers only what no mounted group claims, and every group that
// could claim the request is mounted by then. The OpenAPI document and /api/docs are answered by the
// whole app (`createApp`), composed when first asked.
import type { AnyElysia } from "elysia";
import type { Deps } from "./deps";
import { createCore } from "./app-core";
import { pathOf } from "./lib/url-path";

type Make = (deps: Deps) => AnyElysia;
export type RouteGroup = {
  name: string;
  paths: string[];
  load: () => Promise<Make>;
  /** false: the group's modules sit below every hook and job handler (auth … teams), no need to wire first */
  wired?: false;
};

const SVC = "/api/v1/orgs/:o/projects/:p/envs/:e/services/:s";
const PROJECT = "/api/v1/orgs/:o/projects/:p";
const APP = "/api/v1/applications/:o";
const APP3 = "/api/v1/applications/:o/:p/:a";

/** Every group `createApp` mounts but the docs, in its order. */
export const ROUTE_GROUPS: RouteGroup[] = [
  { name: "integrations", paths: ["/api/v1/integrations", `${PROJECT}/webhooks`, `${SVC}/deploy-key`, `${SVC}/git-token`, `${PROJECT}/previews`], load: () => import("./modules/integrations").then((m) => m.integrationRoutes) },
  { name: "auth", paths: ["/api/v1/auth/login", "/api/v1/auth/logout", "/api/v1/auth/session"], load: () => import("./modules/auth").then((m) => m.authRoutes), wired: false },
  { name: "password", paths: ["/api/v1/auth/password"], load: () => import("./modules/auth/password").then((m) => m.passwordRoutes), wired: false },
  { name: "cli-auth", paths: ["/api/v1/auth/cli-authorize"], load: () => import("./modules/cli-auth").then((m) => m.cliAuthRoutes), wired: false },
  { name: "keys", paths: ["/api/keys"], load: () => import("./modules/keys").then((m) => m.keyRoutes), wired: false },
  { name: "admin", paths: ["/api/v1/admin/users"], load: () => import("./modules/admin").then((m) => m.adminRoutes), wired: false },
  { name: "orgs", paths: ["/api/v1/organizations", "/api/v1/orgs$", "/api/v1/orgs/:o$", "/api/v1/orgs/:o/members"], load: () => import("./modules/orgs").then((m) => m.orgRoutes), wired: false },
  { name: "teams", paths: ["/api/v1/orgs/:o/teams"], load: () => import("./modules/teams").then((m) => m.teamRoutes), wired: false },
  { name: "projects", paths: ["/api/v1/projects", "/api/v1/orgs/:o/projects$", `${PROJECT}$`], load: () => import("./modules/projects").then((m) => m.projectRoutes) },
  { name: "envs", paths: [`${PROJECT}/envs$`, `${PROJECT}/envs/:e$`, `${PROJECT}/envs/:e/check`], load: () => import("./modules/envs").then((m) => m.envRoutes) },
  { name: "services", paths: [`${PROJECT}/envs/:e/services$`, `${SVC}$`, `${SVC}/domains`], load: () => import("./modules/services").then((m) => m.serviceRoutes) },
  {
    name: "applications",
    paths: ["/api/v1/applications$", "/api/v1/applications/:o/:p$", `${APP3}$`, ...["database", "cache", "settings", "scale"].flatMap((s) => [`${APP}/${s}`, `${APP3}/${s}`])],
    load: () => import("./modules/applications").then((m) => m.applicationRoutes),
  },
  {
    name: "config",
    paths: ["/api/v1/orgs/:o/config", "/api/v1/orgs/:o/teams/:t/config", `${PROJECT}/config`, `${PROJECT}/envs/:e/config`, `${SVC}/config`, "/api/v1/configurations"],
    load: () => import("./modules/config-vars").then((m) => m.configRoutes),
  },
  { name: "images", paths: ["/api/v1/images", `${SVC}/images`], load: () => import("./modules/images").then((m) => m.imageRoutes) },
  { name: "releases", paths: ["/api/v1/releases", `${SVC}/releases`], load: () => import("./modules/releases").then((m) => m.releaseRoutes) },
  {
    name: "deployments",
    paths: ["/api/v1/deployments", `${APP}/deployments`, `${APP3}/deployments`, `${PROJECT}/envs/:e/deployments`, "/api/v1/releases/:o/deploy", `${SVC}/deploy`],
    load: () => import("./modules/deployments").then((m) => m.deploymentRoutes),
  },
  {
    name: "pipeline",
    paths: [...["deploy", "pipeline-status", "pipeline-metrics"].flatMap((s) => [`${APP}/${s}`, `${APP3}/${s}`]), `${PROJECT}/pipeline`, `${PROJECT}/envs/:e/deploy`],
    load: () => import("./modules/pipeline").then((m) => m.pipelineRoutes),
  },
  { name: "activity", paths: [`${SVC}/activity`], load: () => import("./modules/pipeline/activity").then((m) => m.activityRoutes) },
  { name: "promotions", paths: [`${PROJECT}/promote`, `${PROJECT}/promotions`], load: () => import("./modules/promotions").then((m) => m.promotionRoutes) },
  { name: "logs", paths: [`${SVC}/logs`], load: () => import("./modules/logs").then((m) => m.logRoutes) },
  {
    name: "exec",
    paths: [`${APP}/exec`, `${APP3}/exec`, `${SVC}/exec`, "/api/v1/workspaces", `${SVC}/runs`, `${SVC}/volumes`, "/api/v1/orgs/:o/exec-sessions", "/api/v1/exec"],
    load: () => import("./modules/exec").then((m) => m.execRoutes),
  },
  { name: "observability", paths: [`${APP}/observability`, `${APP3}/observability`, `${PROJECT}/observability`, "/metrics"], load: () => import("./modules/observability").then((m) => m.observabilityRoutes) },
  { name: "ops", paths: ["/api/v1/status"], load: () => import("./modules/ops").then((m) => m.opsRoutes) },
  { name: "backups", paths: ["/api/v1/admin/backups"], load: () => import("./modules/backups").then((m) => m.backupRoutes) },
  // every path: the catch-all (see the top of this file)
  { name: "dashboard", paths: [""], load: () => import("./modules/dashboard").then((m) => m.dashboardRoutes), wired: false },
];

/** Answered by the whole app (`createApp`): the OpenAPI document, its UI and /api/docs. */
export const DOCS_PATHS = ["/api/docs", "/api/openapi-ui", "/api/v1/openapi.json", "/api/v1/openapi-raw.json"];

/** A path prefix (or, with a trailing `$`, a whole path) as a regular expression's source. */
function source(pattern: string): string {
  const exact = pattern.endsWith("$");
  const segments = (exact ? pattern.slice(0, -1) : pattern).split("/").filter(Boolean);
  const body = segments.map((s) => "/" + (s.startsWith(":") ? "[^/]*" : s.replace(/[.*+?^${}()|[\]\\-]/g, "\\$&"))).join("");
  return exact ? `${body}/?$` : `${body}(?:/|$)`;
}

const anyOf = (sources: string[]) => new RegExp(`^(?:${sources.join("|")})`);
const SOURCES = ROUTE_GROUPS.map((g) => g.paths.map(source));
const GROUP_RES = SOURCES.map(anyOf);
const DOCS_RE = anyOf(DOCS_PATHS.map(source));

/** The indexes in ROUTE_GROUPS of the groups that may answer `pathname` (a path without its query). */
export function groupsFor(pathname: string): number[] {
  const found: number[] = [];
  for (let i = 0; i < GROUP_RES.length; i++) if (GROUP_RES[i]!.test(pathname)) found.push(i);
  return found;
}

export const isDocsPath = (pathname: string): boolean => DOCS_RE.test(pathname);

let wiring: Promise<void> | undefined;
/** Job handlers and cross-module hooks (modules/wiring.ts), before a group that may use them answers. */
export const wire = (): Promise<void> => (wiring ??= import("./modules/wiring").then((m) => m.wireModules()));

type Handler = (request: Request) => Response | Promise<Response>;
export type LazyApp = {
  fetch: Handler;
  handle: (request: Request) => Promise<Response>;
  compile: () => unknown;
  server: unknown;
  modules: PromiseLike<unknown>;
  /** The names of the groups mounted so far, in mount order. */
  mounted: () => string[];
  /** Settles once the groups being mounted now are (start-up lets the first requests' groups go first). */
  settled: () => Promise<unknown>;
};

export function createLazyApp(deps: Deps): LazyApp {
  const core = createCore(deps);
  const mountedNames: string[] = [];
  const mounting: (Promise<void> | undefined)[] = ROUTE_GROUPS.map(() => undefined);
  const done = ROUTE_GROUPS.map(() => false);
  let left = ROUTE_GROUPS.length;
  let docs: Promise<Handler> | undefined;

  // One test per request while some group is not mounted: may any of those answer it? The one
  // regular expression of every pending group's paths costs ~10 ms to compile (JSC, 80 patterns),
  // so it is made in a turn of its own after a mount, never on a request's way; until then (the
  // first requests of a start) each pending group's own expression is tested. A stale one (made
  // before the last mount) claims too much, which only costs those tests.
  let pendingRe: RegExp | undefined;
  let remake: ReturnType<typeof setTimeout> | undefined;
  const remakePending = () => {
    pendingRe = undefined;
    clearTimeout(remake);
    remake = setTimeout(() => {
      if (left === 0) return;
      const re = anyOf(SOURCES.filter((_, i) => !done[i]).flat());
      re.test("/"); // compiled here
      pendingRe = re;
    }, 50);
    remake.unref?.();
  };

  const mount = (i: number): Promise<void> =>
    (mounting[i] ??= (async () => {
      const group = ROUTE_GROUPS[i]!;
      const [make] = await Promise.all([group.load(), group.wired === false ? undefined : wire()]);
      // synchronous from here: a request sees the app before or after the group, never half of it
      core.use(make(deps));
      core.compile();
      done[i] = true;
      left--;
      mountedNames.push(group.name);
      remakePending();
    })().catch((e) => {
      mounting[i] = undefined; // the next request tries again
      throw e;
    }));

  const failed = (request: Request, e: unknown): Response => {
    deps.logger.error("request failed", { code: "MOUNT", path: pathOf(request.url), error: e instanceof Error ? (e.stack ?? e.message) : String(e) });
    return Response.json({ status: 500, message: "Internal server error." }, { status: 500 });
  };

  const fetch: Handler = (request) => {
    const pathname = pathOf(request.url);
    if (DOCS_RE.test(pathname)) {
      // the whole app, in createApp's order: the document lists the routes as it always did
      docs ??= import("./app").then(({ createApp }) => {
        const app = createApp(deps);
        return (r: Request) => app.handle(r);
      });
      return docs.then((handle) => handle(request)).catch((e) => failed(request, e));
    }
    if (left === 0 || (pendingRe && !pendingRe.test(pathname))) return core.fetch(request);
    const waits = groupsFor(pathname).filter((i) => !done[i]).map(mount);
    if (!waits.length) return core.fetch(request);
    return Promise.all(waits).then(
      () => core.fetch(request),
      (e) => failed(request, e),
    );
  };

  return {
    fetch,
    handle: async (request) => fetch(request),
    compile: () => core.compile(),
    get server() {
      return core.server;
    },
    set server(value) {
      core.server = value as Core["server"];
    },
    get modules() {
      return core.modules;
    },
    mounted: () => [...mountedNames],
    settled: () => Promise.allSettled(mounting.filter((m, i) => m && !done[i])),
  };
}

type Core = ReturnType<typeof createCore>;
