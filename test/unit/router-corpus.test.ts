// Conformance corpus: backend behaviours served from raw sockets, read by a raw client through
// the router — status, framing and body as a client sees them, and above all that a broken or cut
// response never reaches the client looking complete. Where nginx is installed the same corpus
// goes through nginx (one worker, keep-alive upstream) and the results are compared; every
// difference is listed below with its reason.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { startRouter, type RunningRouter } from "../../src/router/proxy";
import { RouteTable } from "../../src/router/table";
import { hasNginx, rawRequest, scriptedBackend, startNginx, type Nginx, type RawResult, type Script } from "../support/raw-http";

setDefaultTimeout(120_000);

const HUGE = "h".repeat(100_000);
const later = (ms: number, f: () => void) => void setTimeout(f, ms);

const scripts: Record<string, Script> = {
  "/fixed": (s) => s.write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\nContent-Type: text/plain\r\n\r\nhello"),
  "/chunked-ext-trailers": (s) => s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1;q=\"x\"\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"),
  "/close-delimited": (s) => (s.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + "c".repeat(300_000)), s.end()),
  "/bare-lf": (s) => (s.write("HTTP/1.1 200 OK\nContent-Type: text/plain\nContent-Length: 7\n\nbare-lf"), s.end()),
  "/head": (s) => s.write("HTTP/1.1 200 OK\r\nContent-Length: 12345\r\nContent-Type: text/plain\r\n\r\n"),
  "/204": (s) => s.write("HTTP/1.1 204 No Content\r\nX-Kind: none\r\n\r\n"),
  "/304": (s) => s.write('HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n'),
  "/interim-1xx": (s) => s.write("HTTP/1.1 103 Early Hints\r\nLink: </a.css>; rel=preload\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nfinal"),
  "/echo-body": (s, req) => s.write(`HTTP/1.1 200 OK\r\nContent-Length: ${req.body.length}\r\n\r\n${req.body.toString("latin1")}`),
  "/te-and-cl": (s) => (s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Length: 100\r\n\r\n5\r\nhello\r\n0\r\n\r\n"), s.end()),
  "/chunk-2zz": (s) => (s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2zz\r\nhello\r\n0\r\n\r\n"), later(50, () => s.end())),
  "/chunk-0x10": (s) => (s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n0x10\r\n0123456789abcdef\r\n0\r\n\r\n"), later(50, () => s.end())),
  "/chunk-plus": (s) => (s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n+5\r\nhello\r\n0\r\n\r\n"), later(50, () => s.end())),
  "/chunk-negative": (s) => (s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\nhello\r\n0\r\n\r\n"), later(50, () => s.end())),
  "/reset-mid-length": (s) => (s.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + "b".repeat(300_000)), later(50, () => s.terminate())),
  "/reset-mid-chunked": (s) => (s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"), later(50, () => s.terminate())),
  "/short-close": (s) => (s.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nonly-part"), later(50, () => s.end())),
  "/huge-header": (s) => s.write(`HTTP/1.1 200 OK\r\nX-Huge: ${HUGE}\r\nContent-Length: 2\r\n\r\nok`),
  "/folded-header": (s) => s.write("HTTP/1.1 200 OK\r\nX-Folded: a\r\n b\r\nContent-Length: 2\r\n\r\nok"),
  "/junk": (s) => (s.write("NOT HTTP AT ALL\r\n\r\n"), s.end()),
  "/slow-drip": (s) => {
    s.write("HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n");
    let i = 0;
    const t = setInterval(() => {
      s.write(String(i++));
      if (i === 10) clearInterval(t);
    }, 60);
  },
};

type Case = { name: string; path: string; method?: string; headers?: Record<string, string>; body?: string; expect100?: boolean; check: (r: RawResult) => void };

const ok = (body: string) => (r: RawResult) => {
  expect(r.status).toBe(200);
  expect(r.body).toBe(body);
  expect(r.complete).toBe(true);
};
// a broken answer: an honest 502 while nothing was sent, else a visibly cut response
const neverComplete = (r: RawResult) => {
  if (r.status === 502) return;
  expect(r.status).toBe(200);
  expect(r.complete).toBe(false);
};

const cases: Case[] = [
  { name: "fixed length", path: "/fixed", check: (r) => (ok("hello")(r), expect(r.framing).toBe("length")) },
  { name: "chunked with extensions and trailers", path: "/chunked-ext-trailers", check: ok("hello world") },
  { name: "close-delimited (re-framed for the client)", path: "/close-delimited", check: ok("c".repeat(300_000)) },
  { name: "headers ended by bare LF", path: "/bare-lf", check: ok("bare-lf") },
  {
    name: "HEAD keeps Content-Length, no body",
    path: "/head",
    method: "HEAD",
    check: (r) => (expect(r.status).toBe(200), expect(r.headers["content-length"]).toBe("12345"), expect(r.body).toBe("")),
  },
  { name: "204 without a body", path: "/204", check: (r) => (expect(r.status).toBe(204), expect(r.headers["x-kind"]).toBe("none"), expect(r.body).toBe("")) },
  { name: "304 without a body", path: "/304", check: (r) => (expect(r.status).toBe(304), expect(r.headers.etag).toBe('"v1"'), expect(r.body).toBe("")) },
  { name: "1xx (103) before the final answer: dropped", path: "/interim-1xx", check: (r) => (ok("final")(r), expect(r.interim).toEqual([]), expect(r.headers["content-type"]).toBeUndefined()) },
  { name: "client Expect: 100-continue: answered, body forwarded", path: "/echo-body", method: "POST", body: "payload", expect100: true, check: (r) => (ok("payload")(r), expect(r.interim).toEqual([100])) },
  { name: "both Transfer-Encoding and Content-Length: chunked wins", path: "/te-and-cl", check: ok("hello") },
  { name: "chunk size 2zz", path: "/chunk-2zz", check: neverComplete },
  { name: "chunk size 0x10", path: "/chunk-0x10", check: neverComplete },
  { name: "chunk size +5", path: "/chunk-plus", check: neverComplete },
  { name: "chunk size -5", path: "/chunk-negative", check: neverComplete },
  { name: "reset mid-body (Content-Length)", path: "/reset-mid-length", check: neverComplete },
  { name: "reset mid-body (chunked)", path: "/reset-mid-chunked", check: neverComplete },
  { name: "backend closes before its Content-Length", path: "/short-close", check: neverComplete },
  { name: "100 KB response header", path: "/huge-header", check: (r) => (ok("ok")(r), expect(r.headers["x-huge"]?.length).toBe(100_000)) },
  { name: "obsolete line folding", path: "/folded-header", check: (r) => expect(r.status).toBe(502) },
  { name: "not HTTP at all", path: "/junk", check: (r) => expect(r.status).toBe(502) },
  { name: "slow drip (10 bytes over 0.6 s)", path: "/slow-drip", check: ok("0123456789") },
  { name: "20 KB request header", path: "/fixed", headers: { "x-big": "a".repeat(20_000) }, check: (r) => expect(r.status).toBe(431) },
];

/**
 * Where nginx 1.22 (defaults plus keep-alive upstream) answers differently, and why. Keyed by case
 * name; the comparison skips these fields.
 */
const DIFFERENCES: Record<string, string> = {
  "20 KB request header": "nginx answers 400 (large_client_header_buffers: 8 KiB per line); Bun's parser answers 431 (16 KiB for all request headers together)",
  "100 KB response header": "nginx answers 502 (an upstream's response head must fit proxy_buffer_size, 4–8 KiB); Bun's client accepts it and the router passes it on",
  "not HTTP at all": "nginx passes the bytes on as an HTTP/0.9 response (no status line); the router answers 502",
  "1xx (103) before the final answer: dropped": "nginx 1.22 cannot take a 1xx interim answer from an upstream and closes the client's connection without a response; Bun's client skips it and the router forwards the final 200",
};

describe("conformance corpus", () => {
  const table = new RouteTable();
  let backend: ReturnType<typeof scriptedBackend>;
  let router: RunningRouter;
  let nginx: Nginx | undefined;

  beforeAll(async () => {
    backend = scriptedBackend(scripts);
    table.setHosts(new Map([["corpus.localhost", "corpus"]]));
    table.setReplicas("corpus", [{ id: "raw", port: backend.port }]);
    router = startRouter({ hostname: "127.0.0.1", port: 0, table });
    if (hasNginx()) nginx = await startNginx(backend.port, { extra: "proxy_read_timeout 5s;" });
  });
  afterAll(async () => {
    await router.stop();
    await nginx?.stop();
    backend.stop(true);
  });

  const send = (port: number, c: Case) => rawRequest(port, { method: c.method, path: c.path, headers: { host: "corpus.localhost", ...(c.headers ?? {}) }, body: c.body, expect100: c.expect100 });

  for (const c of cases) {
    test(`router: ${c.name}`, async () => {
      c.check(await send(router.port, c));
    });
  }

  test("nginx answers the same corpus the same way, except the listed differences", async () => {
    if (!nginx) {
      console.warn(`nginx not installed (${"/usr/sbin/nginx"}): comparison skipped`);
      return;
    }
    const mismatches: string[] = [];
    for (const c of cases) {
      const [ours, theirs] = [await send(router.port, c), await send(nginx.port, c)];
      // a broken answer may be a 502, no answer at all, or a cut body: to a client all mean "failed"
      const view = (r: RawResult) => (r.status === 0 || r.status === 502 || !r.complete ? "broken" : `${r.status} ${r.framing === "none" ? "no body" : JSON.stringify(r.body.slice(0, 40))} (${r.body.length} bytes)`);
      const same = view(ours) === view(theirs);
      if (!same && !DIFFERENCES[c.name]) mismatches.push(`${c.name}: router ${view(ours)}, nginx ${view(theirs)}`);
      if (same && DIFFERENCES[c.name]) mismatches.push(`${c.name}: listed as a difference but both answer ${view(ours)}`);
    }
    expect(mismatches).toEqual([]);
  });
});
