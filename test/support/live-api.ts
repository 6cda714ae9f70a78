// JSON requests to a live `ancla serve` as its first admin (an API key), for integration tests.
import type { LiveServer } from "./server";

export type LiveApi = (method: string, path: string, body?: unknown, raw?: BodyInit) => Promise<{ status: number; body: any }>;

/** `body` goes as JSON; `raw` as a tar upload (application/x-tar). An empty answer has body undefined. */
export function liveApi(s: LiveServer): LiveApi {
  return async (method, path, body, raw) => {
    const headers: Record<string, string> = { "x-api-key": s.adminKey };
    if (body !== undefined) headers["content-type"] = "application/json";
    // an upload may be answered (refused) before its body is read: its connection is not reused for the next request
    if (raw !== undefined) Object.assign(headers, { "content-type": "application/x-tar", connection: "close" });
    const res = await fetch(s.url + path, { method, headers, body: raw ?? (body === undefined ? undefined : JSON.stringify(body)), ...(raw !== undefined ? { keepalive: false } : {}) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) : undefined };
  };
}
