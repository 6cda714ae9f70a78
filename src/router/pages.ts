// The router's own answers: short HTML pages, one per failure, so a visitor (and a log reader)
// can tell "no such app" from "nothing running", "the app failed" and "the app is too slow".
export function errorPage(status: number, title: string, detail: string, requestId?: string): Response {
  const id = requestId ? `<p>Request ID: ${requestId}</p>` : "";
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${status} ${title}</title></head><body><h1>${status} ${title}</h1><p>${detail}</p>${id}<hr><p>ancla router</p></body></html>\n`;
  const headers: Record<string, string> = { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" };
  if (requestId) headers["x-request-id"] = requestId;
  return new Response(html, { status, headers });
}

export const notFoundPage = () => errorPage(404, "Not Found", "No application is served at this hostname.");
export const noReplicaPage = (id?: string) => errorPage(503, "Service Unavailable", "No healthy replica of this application is running.", id);
export const badGatewayPage = (id?: string, detail = "The application did not answer.") => errorPage(502, "Bad Gateway", detail, id);
export const timeoutPage = (id?: string) => errorPage(504, "Gateway Timeout", "The application took too long to answer.", id);
