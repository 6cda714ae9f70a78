// createCore(deps): the API's Elysia app with no route: the request id, the global hooks (body
// limits, the answer cache, request metrics, one onError → {status, message}). `app.ts` mounts every
// module's routes on it at once (tests, the OpenAPI document); `route-groups.ts` mounts each group on
// the first request that falls in it (`ancla serve`). Imports nothing the listener's front does not
// already load: no feature module's routes.
import { Elysia } from "elysia";
import { AppError, BadRequest } from "./errors";
import { isRawBodyRoute, JSON_LIMIT, parseSmallBody, readTextLimited, streamsBody } from "./lib/body-limit";
import type { Deps } from "./deps";
import { requestMetrics } from "./modules/observability/http-metrics";
import { requestContext, requestIdOf } from "./modules/ops/request-context";
import { cachedAnswer, keepAnswer } from "./modules/auth/answer-cache";
import { jsonTextOf } from "./db/client";

type Issue = { path?: unknown; message?: string };

function validationBody(error: unknown) {
  const e = error as { all?: Issue[]; type?: string; valueError?: Issue };
  const issues = (e.all ?? []).map((i) => {
    const raw = Array.isArray(i.path) ? i.path.map((p) => (typeof p === "object" && p && "key" in p ? (p as { key: unknown }).key : p)).join(".") : String(i.path ?? "");
    // Elysia names the body itself "root" (an unknown key of a strict object): say "body"
    const path = raw.replace(/^\//, "").replace(/\//g, ".").replace(/^root$/, "") || "body";
    return { path, message: i.message ?? "is invalid" };
  });
  const first = issues[0] ?? { path: "body", message: "is invalid" };
  return { status: 422, message: `${first.path}: ${first.message}`, errors: issues };
}

export function createCore(deps: Deps) {
  const redactBody = (body: { status: number; message: string; errors?: { path: string; message: string }[] }) => {
    const r = deps.redactor.redact;
    return { ...body, message: r(body.message), ...(body.errors ? { errors: body.errors.map((e) => ({ path: e.path, message: r(e.message) })) } : {}) };
  };
  const metrics = requestMetrics(deps);
  // per route as registered, looked up once: a route's hooks never change once it is mounted
  const streaming = new Map<string, boolean>();
  const streams = (method: string, route: string): boolean => {
    const key = `${method} ${route}`;
    let yes = streaming.get(key);
    if (yes === undefined) streaming.set(key, (yes = streamsBody(app.routes, method, route)));
    return yes;
  };
  const app = new Elysia()
    .use(requestContext(deps)) // first: the request id is on every response and log line
    .onRequest(({ request, set }) => {
      metrics.start(request);
      const length = Number(request.headers.get("content-length") ?? 0);
      if (length > JSON_LIMIT && (request.headers.get("content-type") ?? "").includes("json")) {
        set.status = 413;
        return { status: 413, message: "JSON body larger than 1 MiB." };
      }
      // a repeated authenticated GET of a hot read route, unchanged since (auth/answer-cache.ts)
      return cachedAnswer(deps, request, set, performance.now());
    })
    // The one mapResponse hook (Elysia skips later ones once one returns a value): every answer
    // passes here, a handler's and onError's. It returns the value it was given — Elysia's error
    // path takes a mapResponse hook's result as the answer even when undefined.
    .mapResponse({ as: "global" }, ({ request, route, set, responseValue }) => {
      metrics.finish(request, route, set.status);
      if (request.method !== "GET") return responseValue as Response;
      // keep the exact text the normal path sends: a jsonResponse's, or Response.json's of the checked value
      if (responseValue instanceof Response) {
        const json = jsonTextOf(responseValue);
        if (json !== undefined) keepAnswer(deps, request, route, set, json, "application/json");
      } else if (responseValue !== null && typeof responseValue === "object" && (Array.isArray(responseValue) || Object.getPrototypeOf(responseValue) === Object.prototype)) {
        keepAnswer(deps, request, route, set, () => JSON.stringify(responseValue), "application/json;charset=utf-8");
      }
      return responseValue as Response; // typed Response|void, but any value passes through
    })
    .onParse({ as: "global" }, async ({ request, contentType, route }) => {
      // a route that reads its body itself (an archive) does so whatever the type says: its own hook answers
      if (!contentType || isRawBodyRoute(request) || streams(request.method, route)) return;
      // bodies are counted while read (chunked ones have no length): see lib/body-limit.ts
      if (!contentType.includes("json")) return parseSmallBody(request, contentType, JSON_LIMIT, "Request body larger than 1 MiB.");
      const text = await readTextLimited(request, JSON_LIMIT, "JSON body larger than 1 MiB.");
      if (text.trim() === "") return {};
      try {
        return JSON.parse(text);
      } catch {
        throw new BadRequest("Malformed JSON body.");
      }
    })
    .onError({ as: "global" }, ({ code, error: raw, set, request }) => {
      // errors thrown inside a body parser arrive wrapped in Elysia's ParseError
      const error = code === "PARSE" && (raw as Error).cause instanceof AppError ? ((raw as Error).cause as AppError) : raw;
      if (error instanceof AppError) {
        set.status = error.status;
        // error messages pass the same redactor as the server log: a stored secret never comes back in one
        return redactBody(error.errors ? { status: error.status, message: error.message, errors: error.errors } : { status: error.status, message: error.message });
      }
      switch (code) {
        case "VALIDATION":
          if ((error as { type?: string }).type === "response") break;
          set.status = 422;
          return redactBody(validationBody(error));
        case "PARSE":
          set.status = 400;
          return { status: 400, message: "Malformed request body." };
        case "NOT_FOUND":
          set.status = 404;
          return { status: 404, message: "Route not found." };
      }
      deps.logger.error("request failed", { request_id: requestIdOf(request), code: String(code), error: error instanceof Error ? error.stack ?? error.message : String(error) });
      set.status = 500;
      return { status: 500, message: "Internal server error." };
    });
  return app;
}

export type Core = ReturnType<typeof createCore>;
