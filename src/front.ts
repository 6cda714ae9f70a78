// The API's listener: one Bun.serve whose fetch answers two kinds of request before Elysia sees
// them, and hands everything else to the app (`app.fetch`, read per request, so a recompiled app
// is picked up).
//   - a repeat of a hot authenticated GET, kept by the answer cache (modules/auth/answer-cache.ts:
//     its rules decide, it counts the hit);
//   - the unauthenticated liveness probe GET /api/v1/integrations/health, a constant.
// Elysia's own listen builds its Bun.serve with app.fetch and gives it app.fetch again when its
// promised modules settle, so this file makes the Bun.serve itself, with the options and Elysia's
// websocket handler that listen would give it (exec and live logs upgrade through `app.server`,
// which is set to it). An `app.compile()` while `app.server` is set reloads the server with
// Elysia's fetch and no websocket handler: this server's reload keeps its own handlers instead.
//
// What a client sees is what the normal path sends: the same status, body bytes and content type;
// the request id (modules/ops/request-context.ts) and `Connection: close` once the server is
// stopping, in the same header order; the same request metrics series (route template and status
// labels) and duration histogram. Not at --log-level debug (the access log line is Elysia's), and
// never for a request with a Content-Length (the app's 413 check reads it).
//
// Nothing here loads Elysia (~15 ms of evaluation with its schema library): `ancla serve` listens
// with this file before the app exists, and the app (with Elysia) is loaded right after listen.
import type { Server, ServerWebSocket } from "bun";
import type { Deps } from "./deps";
import { frontAnswer } from "./modules/auth/answer-cache";
import { requestIdFor } from "./modules/ops/request-id";
import { pathStart } from "./lib/url-path";
import { httpSeries, type Series } from "./modules/observability/http-metrics";

type Handler = (request: Request) => Response | Promise<Response>;
/** What this file needs of the Elysia app (kept narrow: the import graph and the types stay simple). */
export type FrontApp = { fetch: Handler; compile: () => unknown; server: unknown; modules: PromiseLike<unknown> };

export const HEALTH_PATH = "/api/v1/integrations/health";
const HEALTH = { status: "ok" };
const API = "/api/v1/";

/** The listener's fetch: the front answers, else the app's. */
export function frontFetch(deps: Deps, app: { fetch: Handler }): Handler {
  if (deps.config.logLevel === "debug") return (request) => app.fetch(request);
  const shutdown = deps.shutdown.signal;
  let health: Series | undefined; // made on first use, like the app's series (the exposition lists them in that order)
  return (request) => {
    if (request.method !== "GET") return app.fetch(request);
    const url = request.url;
    const at = pathStart(url);
    if (at < 0 || !url.startsWith(API, at) || request.headers.has("content-length")) return app.fetch(request);
    const started = performance.now();
    if (url.length - at === HEALTH_PATH.length && url.endsWith(HEALTH_PATH)) {
      // what Elysia does with the route's value: Response.json(value, set), set holding the request's headers
      const headers: Record<string, string> = { "x-request-id": requestIdFor(request) };
      if (shutdown.aborted) headers.connection = "close";
      const res = Response.json(HEALTH, { headers, status: 200 });
      health ??= httpSeries(deps, "GET", HEALTH_PATH, 200);
      health.counted.inc();
      health.timed.observe((performance.now() - started) / 1000);
      return res;
    }
    const kept = frontAnswer(deps, request, started); // counts the hit and its request metrics
    if (!kept) return app.fetch(request);
    // the answer cache's own order (cachedAnswer): content type, then the request's headers
    const headers: Record<string, string> = { "content-type": kept.contentType, "x-request-id": requestIdFor(request) };
    if (shutdown.aborted) headers.connection = "close";
    return new Response(kept.body, { headers });
  };
}

/**
 * Elysia's websocket handler (elysia/ws) as its listen passes it to Bun.serve: each event goes to
 * the handlers Elysia's upgrade put on the socket's data. Written out here so that listening does
 * not evaluate Elysia (elysia/ws imports its validation and error modules).
 */
type WsData = { [K in "open" | "message" | "drain" | "close" | "ping" | "pong"]?: (ws: ServerWebSocket<WsData>, ...rest: unknown[]) => void };
export const websocket: Bun.WebSocketHandler<WsData> = {
  open: (ws) => ws.data.open?.(ws),
  message: (ws, message) => ws.data.message?.(ws, message),
  drain: (ws) => ws.data.drain?.(ws),
  close: (ws, code, reason) => ws.data.close?.(ws, code, reason),
  ping: (ws) => ws.data.ping?.(ws),
  pong: (ws) => ws.data.pong?.(ws),
};

export type Listener = { server: Server<unknown>; stop: (closeActiveConnections?: boolean) => Promise<void> };

/** Listens for the API with the front handler in front of `app` (the options Elysia's listen would pass to Bun.serve). */
export function listenApi(deps: Deps, app: FrontApp, options: { hostname: string; port: number; reusePort: boolean; maxRequestBodySize: number }): Listener {
  app.compile();
  const env = Bun.env.NODE_ENV ?? Bun.env.ENV;
  const handlers = { websocket: websocket as unknown as Bun.WebSocketHandler<unknown>, fetch: frontFetch(deps, app) };
  const server = Bun.serve({ development: env !== "production", idleTimeout: 30, ...options, ...handlers });
  const reload = server.reload.bind(server);
  server.reload = (given) => reload({ ...given, ...handlers });
  app.server = server; // Elysia's WebSocket routes upgrade through it (context.server)
  // modules registered as promises add their routes once they settle: compile again then, as
  // Elysia's listen does (app.fetch is read per request)
  void Promise.resolve(app.modules).then(() => app.compile());
  return {
    server,
    stop: async (closeActiveConnections = false) => {
      await server.stop(closeActiveConnections);
      if (app.server === server) app.server = null;
    },
  };
}
