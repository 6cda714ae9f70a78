// Header rules of the proxy (pure): hop-by-hop removal both ways, X-Forwarded-*, X-Request-Id.

// RFC 9110 §7.6.1 connection-specific fields, plus `expect` (the router's own server answers
// 100-continue; forwarding it would make the upstream client wait for a second one).
const HOP_BY_HOP = ["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection"];
const REQUEST_ONLY = ["expect"];
// a Connection header may name further hop-by-hop fields, never these (the request would lose its target or framing)
const NEVER_LISTED = new Set(["host", "content-length"]);

/** Removes hop-by-hop fields, including those the message's own Connection header names. */
export function dropHopByHop(h: Headers, request = false): void {
  const listed = h.get("connection");
  for (const name of HOP_BY_HOP) h.delete(name);
  if (request) for (const name of REQUEST_ONLY) h.delete(name);
  if (!listed) return;
  for (const token of listed.split(",")) {
    const name = token.trim().toLowerCase();
    if (name && !NEVER_LISTED.has(name)) h.delete(name);
  }
}

// An incoming id is kept when it is short and plain (it ends up in app logs and ours); anything
// else is replaced so a client cannot inject log lines or huge values.
const SANE_ID = /^[A-Za-z0-9._:+=\/@-]{1,200}$/;

export function requestIdOf(req: Request): string {
  const given = req.headers.get("x-request-id");
  return given && SANE_ID.test(given) ? given : crypto.randomUUID();
}

/**
 * The headers sent upstream: the client's, minus hop-by-hop, plus the forwarding fields; Host is
 * kept. Edits the request's own Headers (Bun's are mutable; a copy costs ~5% of a small request)
 * unless `copy` — a WebSocket upgrade still needs its handshake fields for Bun's server.upgrade.
 */
export function upstreamHeaders(req: Request, host: string, clientIp: string | undefined, requestId: string, proto: "http" | "https" = "http", copy = false): Headers {
  const prior = req.headers.get("x-forwarded-for");
  const h = copy ? new Headers(req.headers) : req.headers;
  dropHopByHop(h, true);
  if (clientIp) h.set("x-forwarded-for", prior ? `${prior}, ${clientIp}` : clientIp);
  h.set("x-forwarded-proto", proto);
  h.set("x-forwarded-host", h.get("host") ?? host);
  h.set("x-request-id", requestId);
  return h;
}

/** The headers sent back to the client: the backend's own Headers, minus hop-by-hop (edited in place). */
export function downstreamHeaders(res: Response): Headers {
  dropHopByHop(res.headers);
  return res.headers;
}

