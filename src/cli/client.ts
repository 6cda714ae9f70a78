// The one HTTP client every remote command uses: JSON in/out, X-API-Key, server errors → AppError.
import { AppError, Unauthorized } from "../errors";
import type { CommandContext } from "./context";
import { resolveSettings, type Settings } from "./settings";

export type Query = Record<string, string | number | boolean | undefined>;

export type ApiClient = {
  settings: Settings;
  get: <T = any>(path: string, query?: Query) => Promise<T>;
  post: <T = any>(path: string, body?: unknown) => Promise<T>;
  patch: <T = any>(path: string, body?: unknown) => Promise<T>;
  delete: <T = any>(path: string) => Promise<T>;
};

/** Exit codes by HTTP status, the same families as the server's error classes. */
const EXIT_BY_STATUS: Record<number, number> = { 400: 2, 401: 3, 403: 3, 404: 4, 409: 5, 413: 2, 422: 2, 429: 6 };
export const NETWORK_EXIT = 7;
const TIMEOUT_MS = 60_000;

export function errorFromResponse(status: number, body: unknown): AppError {
  const b = body as { message?: unknown; errors?: { path: string; message: string }[] } | undefined;
  const message = typeof b?.message === "string" && b.message ? b.message : `server answered HTTP ${status}`;
  const code = status === 401 ? "unauthorized" : status === 404 ? "not_found" : "http_" + status;
  return new AppError(status, message, code, EXIT_BY_STATUS[status] ?? 1, Array.isArray(b?.errors) ? b.errors : undefined);
}

/** A path segment from user input; encoded so "a/b" or "..", never changes the route. */
/** One path segment of an API route. `.` and `..` are refused: a URL takes them (encoded too) as moves
 * up the path, so `services delete org/project/env/..` would have been a DELETE of the environment. */
export const seg = (s: string): string => {
  if (s === "." || s === "..") throw new AppError(2, `'${s}' is not a name: give the organization, project, environment or service by its name`, "usage", 2);
  return encodeURIComponent(s);
};

export function createClient(settings: Settings, fetchImpl: typeof fetch = fetch): ApiClient {
  const request = async <T>(method: string, path: string, body?: unknown, query?: Query): Promise<T> => {
    if (!settings.apiKey) throw new Unauthorized("not logged in: run `ancla login`, pass --api-key or set ANCLA_API_KEY");
    const url = new URL(settings.server + path);
    for (const [k, v] of Object.entries(query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: "application/json", "x-api-key": settings.apiKey, "user-agent": "ancla-cli" };
    if (body !== undefined) headers["content-type"] = "application/json";
    let res: Response;
    try {
      res = await fetchImpl(url, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        redirect: "manual",
        signal: AbortSignal.timeout(TIMEOUT_MS),
      });
    } catch (e) {
      // never echo the request (it carries the key); the reason and the server are enough
      const reason = (e as Error)?.name === "TimeoutError" ? `no answer within ${TIMEOUT_MS / 1000} s` : (e as Error)?.message ?? String(e);
      throw new AppError(0, `cannot reach the Ancla server at ${settings.server}: ${reason}`, "network", NETWORK_EXIT);
    }
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = undefined;
    }
    if (!res.ok) {
      const err = errorFromResponse(res.status, parsed);
      if (res.status === 401) throw new AppError(401, `${err.message} (server ${settings.server} rejected the API key from ${settings.sources.apiKey})`, err.code, 3);
      throw err;
    }
    if (text && parsed === undefined) throw new AppError(res.status, `server at ${settings.server} answered with something that is not JSON; is it an Ancla server?`, "protocol", 1);
    return parsed as T;
  };
  return {
    settings,
    get: (path, query) => request("GET", path, undefined, query),
    post: (path, body) => request("POST", path, body ?? {}),
    patch: (path, body) => request("PATCH", path, body ?? {}),
    delete: (path) => request("DELETE", path),
  };
}

/** The client for a command's flags, environment and working directory. */
export const clientFor = (ctx: Pick<CommandContext, "flags" | "env" | "cwd">): ApiClient => createClient(resolveSettings(ctx));
