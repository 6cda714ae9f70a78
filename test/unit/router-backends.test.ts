// The router against misbehaving and unusual backends served from raw sockets (Bun.listen):
// framing variants pass through, failures end in 502/504 or a visibly truncated response (never
// a short body presented as complete), retries happen only when no app saw the request, and
// repeated warnings are rate limited.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { startRouter, type RunningRouter } from "../../src/router/proxy";
import { RouteTable } from "../../src/router/table";
import { rateLimitedWarn } from "../../src/router/warn";
import { rejectionOf } from "../support/settle";

setDefaultTimeout(120_000);

type Sock = { write: (s: string) => number; end: () => void; terminate: () => void };
// Each path answers with a script: raw bytes, then optionally a close, a reset, or silence.
const behaviours: Record<string, (s: Sock) => void> = {
  "/lf": (s) => (s.write("HTTP/1.1 200 OK\nContent-Type: text/plain\n\nbare-lf-body"), s.end()),
  "/cgi": (s) => (s.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\n\nGREETING=hi\nPORT=8000\n"), s.end()),
  "/close": (s) => (s.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\n" + "c".repeat(300_000)), s.end()),
  "/chunked": (s) => (s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5;ext=1\r\nhello\r\n6\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n"), s.end()),
  "/head": (s) => s.write("HTTP/1.1 200 OK\r\nContent-Length: 12345\r\nContent-Type: text/plain\r\n\r\n"),
  "/204": (s) => s.write("HTTP/1.1 204 No Content\r\nX-Kind: none\r\n\r\n"),
  "/304": (s) => s.write('HTTP/1.1 304 Not Modified\r\nETag: "v1"\r\n\r\n'),
  "/cookies": (s) => s.write("HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\nConnection: close, x-private\r\nX-Private: hop\r\nContent-Length: 2\r\n\r\nok"),
  "/gzip": (s) => s.write("HTTP/1.1 200 OK\r\nContent-Encoding: gzip\r\nContent-Length: 4\r\n\r\nabcd"),
  "/reset-small": (s) => (s.write("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"), setTimeout(() => s.terminate(), 30)),
  "/reset-big": (s) => (s.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\n" + "b".repeat(1000)), setTimeout(() => s.terminate(), 30)),
  "/reset-chunked": (s) => (s.write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n"), setTimeout(() => s.terminate(), 30)),
  "/junk": (s) => (s.write("NOT HTTP AT ALL\r\n\r\n"), s.end()),
  "/hang": () => {},
  "/hang-body": (s) => s.write("HTTP/1.1 200 OK\r\nContent-Length: 1000000\r\n\r\nstarted"),
};

function rawBackend(seen: string[] = []) {
  return Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      data(sock, d) {
        const head = new TextDecoder().decode(d);
        seen.push(head);
        const path = head.split(" ")[1] ?? "/";
        (behaviours[path] ?? ((s: Sock) => s.write("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\ndefault")))(sock as unknown as Sock);
      },
    },
  });
}

const closedPort = () => {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
};

describe("router against raw backends", () => {
  const table = new RouteTable();
  const warnings: string[] = [];
  const seen: string[] = [];
  let router: RunningRouter;
  let backend: ReturnType<typeof rawBackend>;

  beforeAll(() => {
    backend = rawBackend(seen);
    table.setHosts(new Map([["raw.localhost", "raw"], ["slow.localhost", "slow"], ["pair.localhost", "pair"]]));
    table.setReplicas("raw", [{ id: "raw", port: backend.port }]);
    table.setReplicas("slow", [{ id: "slow", port: backend.port }]);
    table.setUpstreamTimeouts(new Map([["slow", 300]])); // 0.3 s for this service only
    router = startRouter({ hostname: "127.0.0.1", port: 0, table, onError: (m, f) => void warnings.push(`${m} ${JSON.stringify(f)}`) });
  });
  afterAll(async () => {
    await router.stop();
    backend.stop(true);
  });

  const get = (path: string, host = "raw.localhost", init: RequestInit = {}) =>
    fetch(`${router.url}${path}`, { ...init, headers: { host, ...((init.headers as Record<string, string>) ?? {}) }, decompress: false } as RequestInit);

  test("headers ended by a bare LF (busybox CGI style) and close-delimited bodies → 200 with the whole body", async () => {
    const lf = await get("/lf");
    expect(lf.status).toBe(200);
    expect(await lf.text()).toBe("bare-lf-body");
    const cgi = await get("/cgi");
    expect(cgi.status).toBe(200);
    expect(cgi.headers.get("content-type")).toBe("text/plain");
    expect(await cgi.text()).toBe("GREETING=hi\nPORT=8000\n");
    const close = await get("/close");
    expect(close.status).toBe(200);
    expect((await close.text()).length).toBe(300_000);
  });

  test("chunked with extensions and trailers, gzip passed through undecoded, several Set-Cookie, Connection-named fields dropped", async () => {
    expect(await (await get("/chunked")).text()).toBe("hello world");
    const gz = await get("/gzip");
    expect(gz.headers.get("content-encoding")).toBe("gzip");
    expect(new Uint8Array(await gz.arrayBuffer())).toEqual(new TextEncoder().encode("abcd"));
    const c = await get("/cookies");
    expect(c.headers.getSetCookie()).toEqual(["a=1", "b=2"]);
    expect(c.headers.get("x-private")).toBeNull();
    expect(await c.text()).toBe("ok");
  });

  test("HEAD keeps Content-Length without a body; 204 and 304 pass through empty", async () => {
    const head = await get("/head", "raw.localhost", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe("12345");
    expect(await head.text()).toBe("");
    const none = await get("/204");
    expect(none.status).toBe(204);
    expect(none.headers.get("x-kind")).toBe("none");
    expect(await none.text()).toBe("");
    const notModified = await get("/304", "raw.localhost", { headers: { "if-none-match": '"v1"' } });
    expect(notModified.status).toBe(304);
    expect(notModified.headers.get("etag")).toBe('"v1"');
  });

  test("a reset mid-body is never delivered as a complete response", async () => {
    // short known-length body: nothing was sent to the client yet → an honest 502
    expect((await get("/reset-small")).status).toBe(502);
    // streamed bodies: the status line is gone already, so the client must see the cut
    for (const path of ["/reset-big", "/reset-chunked"]) {
      const res = await get(path);
      expect(res.status).toBe(200);
      await rejectionOf(res.text());
    }
    for (const r of table.replicasOf("raw")) expect(r.inflight).toBe(0);
  });

  test("garbage from the backend → 502", async () => {
    const junk = await get("/junk");
    expect(junk.status).toBe(502);
    expect(await junk.text()).toContain("Bad Gateway");
  });

  test("a backend that never answers → 504 after the service's own timeout; one silent mid-body is cut", async () => {
    const res = await get("/hang", "slow.localhost");
    expect(res.status).toBe(504);
    expect(await res.text()).toContain("Gateway Timeout");
    const mid = await get("/hang-body", "slow.localhost");
    expect(mid.status).toBe(200);
    await rejectionOf(mid.text());
    // other services keep the default (60 s)
    expect(table.upstreamTimeoutMs("raw")).toBe(60_000);
    expect(table.replicasOf("slow")[0]!.inflight).toBe(0);
  });

  test("a slow upload is not the backend's time: 0.9 s of client chunks through a 0.3 s timeout → 200", async () => {
    const echo = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: async (req) => new Response(await req.text()) });
    try {
      table.setHosts(new Map([...["raw", "slow", "pair"].map((s) => [`${s}.localhost`, s] as [string, string]), ["upload.localhost", "upload"]]));
      table.setReplicas("upload", [{ id: "echo", port: echo.port! }]);
      table.setUpstreamTimeouts(new Map([["slow", 300], ["upload", 300]]));
      const body = new ReadableStream<Uint8Array>({
        async start(c) {
          for (const part of ["one ", "two ", "three"]) {
            c.enqueue(new TextEncoder().encode(part));
            await Bun.sleep(300);
          }
          c.close();
        },
      });
      const res = await get("/", "upload.localhost", { method: "POST", body, duplex: "half" } as RequestInit);
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("one two three");
    } finally {
      echo.stop(true);
    }
  });

  test("X-Request-Id: a sane incoming id is kept, anything else replaced; X-Forwarded-* set, Host kept", async () => {
    seen.length = 0;
    await (await get("/", "raw.localhost", { headers: { "x-request-id": "abc-123" } })).text();
    await (await get("/", "raw.localhost", { headers: { "x-request-id": "bad id with spaces" } })).text();
    await (await get("/", "raw.localhost")).text();
    const ids = seen.map((h) => /^x-request-id: (.*)$/im.exec(h)?.[1]?.trim());
    expect(ids[0]).toBe("abc-123");
    expect(ids[1]).toMatch(/^[0-9a-f-]{36}$/);
    expect(ids[2]).toMatch(/^[0-9a-f-]{36}$/);
    expect(seen[0]).toMatch(/^host: raw\.localhost$/im);
    expect(seen[0]).toMatch(/^x-forwarded-for: 127\.0\.0\.1$/im);
    expect(seen[0]).toMatch(/^x-forwarded-host: raw\.localhost$/im);
    expect(seen[0]).toMatch(/^x-forwarded-proto: http$/im);
  });

  test("a refused replica: GETs retry on the healthy one; a POST with a body is never retried (502)", async () => {
    const live = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: async (req) => new Response(`live ${req.method} ${await req.text()}`) });
    const hits: string[] = [];
    const counting = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => (hits.push(req.method), new Response("counted")) });
    try {
      // setReplicas puts the round robin at the first replica: the refused one is tried first
      table.setReplicas("pair", [{ id: "dead-1", port: closedPort() }, { id: "live", port: live.port! }]);
      const res = await get("/", "pair.localhost");
      expect(res.status).toBe(200);
      expect(await res.text()).toBe("live GET ");

      table.setReplicas("pair", [{ id: "dead-2", port: closedPort() }, { id: "counting", port: counting.port! }]);
      const post = await get("/", "pair.localhost", { method: "POST", body: "payload" });
      expect(post.status).toBe(502);
      expect(hits).toEqual([]);
      // the refused replica sits out now, so the next POST goes to the healthy one
      const next = await get("/", "pair.localhost", { method: "POST", body: "payload" });
      expect(await next.text()).toBe("counted");
    } finally {
      live.stop(true);
      counting.stop(true);
    }
  });
});

describe("rate-limited warnings", () => {
  test("a failing backend hammered with 300 requests writes one warning line", async () => {
    const backend = rawBackend();
    const table = new RouteTable();
    table.setHosts(new Map([["junk.localhost", "junk"]]));
    table.setReplicas("junk", [{ id: "junk", port: backend.port }]);
    const lines: string[] = [];
    const router = startRouter({ hostname: "127.0.0.1", port: 0, table, onError: (m, f) => void lines.push(`${m} ${JSON.stringify(f)}`) });
    try {
      for (let i = 0; i < 30; i++) {
        const batch = Array.from({ length: 10 }, () => fetch(`${router.url}/junk`, { headers: { host: "junk.localhost" } }).then((r) => r.status));
        expect(new Set(await Promise.all(batch))).toEqual(new Set([502]));
      }
      expect(lines.length).toBe(1);
      expect(lines[0]).toContain("router backend failed");
    } finally {
      await router.stop();
      backend.stop(true);
    }
  });

  test("one line per key per window; the next line carries the suppressed count", () => {
    let now = 0;
    const lines: Record<string, unknown>[] = [];
    const warn = rateLimitedWarn((m, f) => void lines.push({ m, ...f }), 10_000, () => now);
    for (let i = 0; i < 5; i++) warn("backend failed", { port: 1, request_id: `r${i}` });
    warn("backend failed", { port: 2 });
    expect(lines.length).toBe(2);
    now = 10_001;
    warn("backend failed", { port: 1 });
    expect(lines.length).toBe(3);
    expect(lines[2]).toMatchObject({ port: 1, suppressed: 4 });
  });
});
