// Per-request context of the API: an id (the caller's X-Request-Id when it is a sane token, else a
// new one) sent back on every response and put on the request's log lines; `Connection: close` once
// the server is stopping or handing over, so keep-alive clients reconnect to whoever serves next
// instead of racing the close; and, at --log-level debug, one access line per request.
import { Elysia } from "elysia";
import type { Deps } from "../../deps";
import { requestIdFor } from "./request-id";
import { pathOf } from "../../lib/url-path";

const ids = new WeakMap<Request, string>();
const started = new WeakMap<Request, number>();

/** The id of a request the API is handling ("" for one it never saw). */
export const requestIdOf = (request: Request): string => ids.get(request) ?? "";

export const requestContext = (deps: Deps) => {
  const debug = deps.config.logLevel === "debug";
  const plugin = new Elysia({ name: "request-context" }).onRequest(({ request, set }) => {
    const id = requestIdFor(request);
    ids.set(request, id);
    set.headers["x-request-id"] = id;
    if (deps.shutdown.signal.aborted) set.headers.connection = "close";
    if (debug) started.set(request, performance.now());
  });
  // only at debug: an after-response hook costs every request a setImmediate in Elysia
  if (!debug) return plugin;
  return plugin.onAfterResponse({ as: "global" }, ({ request, set }) => {
    const t0 = started.get(request);
    if (t0 === undefined) return;
    const path = pathOf(request.url);
    deps.logger.debug("request", { request_id: requestIdOf(request), method: request.method, path, status: set.status ?? 200, ms: Math.round((performance.now() - t0) * 10) / 10 });
  });
};
