// Repeated authenticated GETs answered from memory until the next database write.
//
// A few hot read routes (ANSWER_ROUTES) answer with a pure function of the database, the caller
// and the URL. Their 200 answer is kept per (credential, URL) and a repeat of the same request is
// answered from the first onRequest hook, before Elysia routes, authenticates and checks access
// again — or, on a live server, by the front handler (src/front.ts) before Elysia sees the
// request at all. Correct by construction:
//   - an entry is tagged with the database's change key (total_changes() + PRAGMA data_version,
//     see db/client.ts) read while the caller was authenticated, i.e. before the route read
//     anything; it is served only while the change key is still that one, so any write after the
//     answer's reads began — through the API, the server's own connection (the deploy runner) or
//     another process (`ancla admin …`) — ends it. Revoking a key, deleting a session, removing a
//     member or changing a role are such writes;
//   - it is served only until the credential's own instant: the key's or session's expiry, and
//     for a key the moment the normal path would record `last_used_at` again (a write), so that
//     bookkeeping stays the same;
//   - the credential is identified by its SHA-256 (the entry never holds the secret), the URL by
//     its path and query; a request with an API key is keyed by the key (as auth prefers it);
//   - only GET, only a 200, only the listed routes (the route Elysia actually matched), never at
//     --log-level debug (the access log line is written after the response);
//   - the answer is the same bytes and content type the normal path sent; the request id,
//     `Connection: close` while stopping, and the per-route request metrics are produced the same
//     way as on the normal path.
// Bounded: 2,000 entries and 8 MiB of bodies; past either it starts over.
import type { Database } from "bun:sqlite";
import { changeKey } from "../../db/sqlite";
import { sha256Hex } from "../../lib/ids";
import { pathStart } from "../../lib/url-path";
import { metricsOf } from "../../lib/metrics";
import type { Deps } from "../../deps";
import { SESSION_COOKIE, readCookie } from "./cookies";

/** Route templates (as Elysia names them) whose GET 200 answer depends only on the database, the caller and the URL. */
export const ANSWER_ROUTES: ReadonlySet<string> = new Set([
  "/api/v1/organizations",
  "/api/v1/orgs",
  "/api/v1/organizations/:org",
  "/api/v1/orgs/:org",
  "/api/v1/applications/:org/:project",
  "/api/v1/orgs/:org/projects/:project/envs/:env/deployments",
  "/api/v1/orgs/:org/projects/:project/envs/:env/services/:svc/config/resolved",
]);

const MAX_ENTRIES = 2000;
const MAX_BYTES = 8 * 2 ** 20;

/** What authentication learnt about a request's credential (recorded by resolveActor). */
export type CredentialSeen = {
  /** the database's change key read while authenticating, before the route's own reads */
  changeKey: string;
  /** the last millisecond at which the credential would still be accepted without a write */
  validThroughMs: number;
};

type Counted = { inc: () => void };
type Timed = { observe: (seconds: number) => void };
// the body stays text: Bun.serve sends a string body cheaper than a shared Blob (measured with wrk)
type Entry = { body: string; contentType: string; validThroughMs: number; counted: Counted; timed: Timed };

type Cache = { version: string; entries: Map<string, Entry>; bytes: number; hits: number };

const caches = new WeakMap<Database, Cache>();
const seen = new WeakMap<Request, CredentialSeen>();
const keys = new WeakMap<Request, string>();
/** Requests the front handler looked up already (and found nothing for). */
const asked = new WeakSet<Request>();

function cacheOf(sqlite: Database): Cache {
  let c = caches.get(sqlite);
  if (!c) caches.set(sqlite, (c = { version: "", entries: new Map(), bytes: 0, hits: 0 }));
  return c;
}

/** How many requests this database's server answered from the cache (for tests and benchmarks). */
export const answerCacheHits = (sqlite: Database): number => cacheOf(sqlite).hits;

/** Forgets every kept answer (the profiler uses it to time the normal path of a repeated request). */
export function dropAnswers(sqlite: Database): void {
  const cache = cacheOf(sqlite);
  cache.entries.clear();
  cache.bytes = 0;
}

/** Called by authentication once it accepted a request's credential. */
export const recordCredential = (request: Request, info: CredentialSeen): void => void seen.set(request, info);

/** The cache key of a GET request with a credential (the credential's SHA-256 and the path with its query), else undefined. */
function keyOf(request: Request): string | undefined {
  if (request.method !== "GET") return undefined;
  const url = request.url;
  const at = pathStart(url);
  if (at < 0 || !url.startsWith("/api/v1/", at)) return undefined;
  const credential = request.headers.get("x-api-key") || (request.headers.has("cookie") ? readCookie(request.headers.get("cookie"), SESSION_COOKIE) : undefined);
  if (!credential) return undefined;
  return sha256Hex(credential) + url.slice(at);
}

/** The kept answer of a repeated request, counted as a hit (request metrics too); else undefined, remembering its key for keepAnswer. */
function lookUp(deps: Deps, request: Request, started: number): Entry | undefined {
  if (deps.config.logLevel === "debug") return undefined;
  const key = keyOf(request);
  if (key === undefined) return undefined;
  const cache = cacheOf(deps.sqlite);
  const entry = cache.entries.get(key);
  if (!entry) {
    keys.set(request, key);
    return undefined;
  }
  const now = changeKey(deps.sqlite);
  if (now !== cache.version) {
    cache.entries.clear();
    cache.bytes = 0;
    cache.version = now;
    keys.set(request, key);
    return undefined;
  }
  if (deps.clock.now().getTime() > entry.validThroughMs) {
    keys.set(request, key);
    return undefined;
  }
  cache.hits++;
  entry.counted.inc();
  entry.timed.observe((performance.now() - started) / 1000);
  return entry;
}

/**
 * The front handler's look-up (src/front.ts), before Elysia: the kept answer's body and content
 * type, or undefined — then Elysia's onRequest hook does not look again (cachedAnswer).
 */
export function frontAnswer(deps: Deps, request: Request, started: number): { body: string; contentType: string } | undefined {
  const entry = lookUp(deps, request, started);
  if (!entry) asked.add(request);
  return entry;
}

/**
 * The repeated request's answer, or undefined to take the normal path. The headers already set
 * for the request (request id, Connection) go on it after the content type, as Elysia would add
 * them; they move into the Response so that Elysia passes it on as it is instead of copying it.
 */
export function cachedAnswer(deps: Deps, request: Request, set: { headers: Record<string, unknown> }, started: number): Response | undefined {
  if (asked.has(request)) return undefined; // the front handler looked already
  const entry = lookUp(deps, request, started);
  if (!entry) return undefined;
  const headers: Record<string, string> = { "content-type": entry.contentType };
  const given = set.headers;
  for (const name in given) {
    headers[name] = String(given[name]);
    delete given[name];
  }
  return new Response(entry.body, { headers });
}

/**
 * Keeps a finished GET's answer when its route is listed (`route` is the template Elysia matched),
 * the status is 200 and authentication recorded the credential. `body` is the exact text sent.
 */
export function keepAnswer(
  deps: Deps,
  request: Request,
  route: string,
  set: { status?: unknown; headers: Record<string, unknown> },
  text: string | (() => string),
  contentType: string,
): void {
  const key = keys.get(request);
  const cred = seen.get(request);
  if (key === undefined || !cred || (set.status !== undefined && set.status !== 200)) return;
  const template = route.length > 1 && route.endsWith("/") ? route.slice(0, -1) : route;
  if (!ANSWER_ROUTES.has(template)) return;
  // only what the fast path adds itself (the request id, Connection while stopping)
  for (const name in set.headers) if (name !== "x-request-id" && name !== "connection") return;
  const body = typeof text === "string" ? text : text();
  const cache = cacheOf(deps.sqlite);
  if (cred.changeKey !== cache.version) {
    cache.entries.clear();
    cache.bytes = 0;
    cache.version = cred.changeKey;
  }
  if (cache.entries.size >= MAX_ENTRIES || cache.bytes + body.length > MAX_BYTES) {
    cache.entries.clear();
    cache.bytes = 0;
  }
  const m = metricsOf(deps);
  const old = cache.entries.get(key);
  if (old) cache.bytes -= old.body.length;
  cache.entries.set(key, {
    body,
    contentType,
    validThroughMs: cred.validThroughMs,
    // the same series the request metrics hook counts (see observability/http-metrics.ts)
    counted: m.httpRequests.labels({ method: "GET", route: template, status: "200" }),
    timed: m.httpDuration.labels({ method: "GET", route: template }),
  });
  cache.bytes += body.length;
}
