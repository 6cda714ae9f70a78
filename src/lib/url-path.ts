// The path of an absolute request URL (`Request.url`: "http://host:port/path?query") without parsing
// it into a URL object, for code on every request's way (the listener's front, the answer cache,
// the route-group table, the access log line, the app router).

/** Where the path begins in `url` (-1 when it has none). */
export const pathStart = (url: string): number => url.indexOf("/", url.indexOf("//") + 2);

/** The path without its query ("/" when the URL has none). */
export function pathOf(url: string): string {
  const at = pathStart(url);
  if (at < 0) return "/";
  const q = url.indexOf("?", at);
  return q < 0 ? url.slice(at) : url.slice(at, q);
}

/** The path and query, as an upstream request line or a redirect carries them ("/" when the URL has no path). */
export function pathAndQuery(url: string): string {
  const at = pathStart(url);
  return at < 0 ? "/" : url.slice(at);
}
