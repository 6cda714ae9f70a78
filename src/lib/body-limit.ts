// Request bodies read under a byte budget. Bun's own maxRequestBodySize answers a chunked body over
// it with an empty 413 (no JSON), so the server sets no practical cap there and every reader of a
// body counts the bytes itself and throws PayloadTooLarge, which gets the usual {status, message}.
import { PayloadTooLarge } from "../errors";

/** JSON and other small bodies (SPEC §4: 1 MiB). */
export const JSON_LIMIT = 1024 * 1024;

/** Bun.serve's cap: effectively none; see above. */
export const SERVER_BODY_CAP = Number.MAX_SAFE_INTEGER;

/** The whole body, or PayloadTooLarge(message) as soon as it passes `limit` bytes. */
export async function readBodyLimited(request: Request, limit: number, message: string): Promise<Buffer> {
  if (!request.body) return Buffer.alloc(0);
  const chunks: Uint8Array[] = [];
  let size = 0;
  for await (const chunk of request.body as unknown as AsyncIterable<Uint8Array>) {
    size += chunk.byteLength;
    if (size > limit) throw new PayloadTooLarge(message);
    chunks.push(chunk);
  }
  return Buffer.concat(chunks);
}

export const readTextLimited = async (request: Request, limit: number, message: string): Promise<string> =>
  (await readBodyLimited(request, limit, message)).toString("utf8");

/**
 * What Elysia's built-in parsers would make of a small body (text, form, multipart), read under
 * the limit here instead of by them (they read without one). Other types are left unread.
 */
export async function parseSmallBody(request: Request, contentType: string, limit: number, message: string): Promise<unknown> {
  switch (contentType.toLowerCase()) {
    case "text/plain":
      return readTextLimited(request, limit, message);
    case "application/x-www-form-urlencoded":
      return Object.fromEntries(new URLSearchParams(await readTextLimited(request, limit, message)));
    case "multipart/form-data": {
      const bytes = await readBodyLimited(request, limit, message);
      const form = await new Response(new Uint8Array(bytes), { headers: { "content-type": request.headers.get("content-type") ?? contentType } }).formData();
      return Object.fromEntries(form);
    }
    case "application/octet-stream":
      return "stream"; // never read here: build routes stream it to disk themselves, with their own limit
    default:
      return undefined;
  }
}

/**
 * A route's `parse` hook for a body its handler reads itself (tar uploads, volume restores). Elysia
 * runs the global parser first: `streamsBody` tells it to leave such a body unread unless it is
 * JSON, so an archive sent with curl's default form type reaches the handler whole.
 */
export const keepStream = () => "stream";

type RouteEntry = { method: string; path: string; hooks?: { parse?: unknown } };

/** Whether the route (method and pattern as registered) reads its body itself, by its `keepStream` hook. */
export function streamsBody(routes: readonly RouteEntry[], method: string, route: string): boolean {
  const entry = routes.find((r) => r.path === route && r.method === method);
  const hooks = entry?.hooks?.parse;
  return Array.isArray(hooks) && hooks.some((h) => h === keepStream || (h as { fn?: unknown } | null)?.fn === keepStream);
}

/** The body's media type as sent, without parameters, lower case ("" without a Content-Type). */
export const mediaType = (request: Request): string => (request.headers.get("content-type") ?? "").split(";")[0]!.trim().toLowerCase();

/** Routes that verify a signature over the exact bytes (GitHub webhooks): the global JSON parser leaves them unread. */
export const RAW_BODY_PATHS = ["/api/v1/integrations/github/hooks"];
export const isRawBodyRoute = (request: Request): boolean => {
  const path = new URL(request.url).pathname.replace(/\/+$/, "");
  return RAW_BODY_PATHS.includes(path);
};
