// The browser session's cookie: its name and how a request's Cookie header is read.
export const SESSION_COOKIE = "ancla_session";

export function readCookie(header: string | null, name: string): string | undefined {
  if (!header) return undefined;
  for (const part of header.split(";")) {
    const i = part.indexOf("=");
    if (i > 0 && part.slice(0, i).trim() === name) {
      try {
        return decodeURIComponent(part.slice(i + 1).trim());
      } catch {
        return undefined; // a malformed %-escape is no credential at all: 401 like any bad cookie, never a 500
      }
    }
  }
  return undefined;
}
