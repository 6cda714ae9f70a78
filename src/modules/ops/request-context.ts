// Per-request context of the API: an id (the caller's X-Request-Id when it is a sane token, else a
// new one) sent back on every response and put on the request's log lines; `Connection: close` once
// the server is stopping or handing over, so keep-alive clients reconnect to whoever serves next
// instead of racing the close; and, at --log-level debug, one access line per request.
import { Elysia } from "elysia";
import type { Deps } from "../../deps";
import { randomBase62 } from "../../lib/ids";

const ids = new WeakMap<Request, string>();
// ids correlate log lines, they are not secrets: 12 random base62 characters per process and an
// 8-character base62 counter — 20 characters as before, unique, and no random bytes per request
const ID_PREFIX = randomBase62(12);
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
let idCount = 0;
function nextId(): string {
  let n = ++idCount;
  let tail = "";
  for (let i = 0; i < 8; i++, n = Math.floor(n / 62)) tail = BASE62[n % 62] + tail;
  return ID_PREFIX + tail;
}
const SANE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;
const started = new WeakMap<Request, number>();

/** A request's id: its X-Request-Id when that is a sane token, else a new one (the front handler, src/front.ts, takes it the same way). */
export function requestIdFor(request: Request): string {
  const given = request.headers.get("x-request-id");
  return given && SANE_ID.test(given) ? given : nextId();
}

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
    const path = request.url.slice(request.url.indexOf("/", request.url.indexOf("//") + 2)).split("?")[0];
    deps.logger.debug("request", { request_id: requestIdOf(request), method: request.method, path, status: set.status ?? 200, ms: Math.round((performance.now() - t0) * 10) / 10 });
  });
};
