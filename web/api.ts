// The dashboard's one API client: every request goes through `request`, with the session cookie.
export type FieldError = { path: string; message: string };

export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: FieldError[] = [],
  ) {
    super(message);
  }
  /** The route itself does not exist on this server (yet), as opposed to a missing resource. */
  get unavailable(): boolean {
    return this.status === 404 && this.message === "Route not found.";
  }
}

let onUnauthorized: () => void = () => {};
export const setUnauthorizedHandler = (fn: () => void) => (onUnauthorized = fn);

async function request<T>(method: string, path: string, body?: unknown, as: "json" | "text" = "json"): Promise<T> {
  const init: RequestInit = { method, credentials: "same-origin", headers: { accept: "application/json" } };
  if (body !== undefined) {
    init.headers = { ...init.headers, "content-type": "application/json" };
    init.body = JSON.stringify(body);
  }
  let res: Response;
  try {
    res = await fetch(path, init);
  } catch {
    throw new ApiError(0, "The server could not be reached.");
  }
  const text = res.status === 204 ? "" : await res.text();
  if (res.ok && as === "text") return text as T;
  let data: any = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) {
    if (res.status === 401 && !path.endsWith("/auth/login")) onUnauthorized();
    throw new ApiError(res.status, typeof data?.message === "string" ? data.message : `Request failed (${res.status}).`, Array.isArray(data?.errors) ? data.errors : []);
  }
  return data as T;
}

export const api = {
  get: <T = any>(path: string) => request<T>("GET", path),
  /** A text/plain route (container logs). */
  text: (path: string) => request<string>("GET", path, undefined, "text"),
  post: <T = any>(path: string, body?: unknown) => request<T>("POST", path, body ?? {}),
  patch: <T = any>(path: string, body: unknown) => request<T>("PATCH", path, body),
  put: <T = any>(path: string, body: unknown) => request<T>("PUT", path, body),
  del: <T = any>(path: string) => request<T>("DELETE", path),
};

/** Lists come bare or as {items, pagination}; views only want the items. */
export const itemsOf = <T = any>(data: unknown): T[] => (Array.isArray(data) ? data : Array.isArray((data as { items?: unknown })?.items) ? (data as { items: T[] }).items : []);

const e = encodeURIComponent;
export const paths = {
  org: (o: string) => `/api/v1/organizations/${e(o)}`,
  orgH: (o: string) => `/api/v1/orgs/${e(o)}`,
  projects: (o: string) => `/api/v1/projects/${e(o)}`,
  project: (o: string, p: string) => `/api/v1/projects/${e(o)}/${e(p)}`,
  projectH: (o: string, p: string) => `/api/v1/orgs/${e(o)}/projects/${e(p)}`,
  env: (o: string, p: string, env: string) => `${paths.projectH(o, p)}/envs/${e(env)}`,
  service: (o: string, p: string, env: string, s: string) => `${paths.env(o, p, env)}/services/${e(s)}`,
  qs: (params: Record<string, string | number | undefined>) => {
    const q = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined) q.set(k, String(v));
    return q.toString();
  },
};

export type { User, Session } from "./types";
