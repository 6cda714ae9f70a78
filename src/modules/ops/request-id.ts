// A request's id, without Elysia: the listener's front (src/front.ts) takes it before the app is loaded.
import { randomBase62 } from "../../lib/ids";

// ids correlate log lines, they are not secrets: 12 random base62 characters per process and an
// 8-character base62 counter — 20 characters as before, unique, and no random bytes per request
const ID_PREFIX = randomBase62(12);
const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
let idCount = 0;
function nextId(): string {
  let n = ++idCount;
  let tail = "";
  for (let i = 0; i < 8; i++, n = Math.floor(n / 62)) tail = BASE62[n % 62] + tail;
  return ID_PREFIX + tail;
}
const SANE_ID = /^[A-Za-z0-9._:@/+=-]{1,128}$/;

/** A request's id: its X-Request-Id when that is a sane token, else a new one (the front handler, src/front.ts, takes it the same way). */
export function requestIdFor(request: Request): string {
  const given = request.headers.get("x-request-id");
  return given && SANE_ID.test(given) ? given : nextId();
}
