// The router against real HTTP servers on 127.0.0.1: host matching, round robin, forwarded
// headers, streaming, passive health, 404/502/503 pages, WebSocket bridging and draining.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { hostnamesFor, normalizeHost } from "../../src/router/hosts";
import { startRouter, type RunningRouter } from "../../src/router/proxy";
import { RouteTable } from "../../src/router/table";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(120_000);

describe("hostnames", () => {
  test("service, env, project, org under the base domain; short form only for the default env; custom domains", () => {
    const s = { org: "acme", project: "shop", env: "production", service: "api", isDefaultEnv: true, domains: ["API.Example.com."] };
    expect(hostnamesFor(s, "localhost")).toEqual(["api.production.shop.acme.localhost", "api.shop.acme.localhost", "api.example.com"]);
    expect(hostnamesFor({ ...s, env: "staging", isDefaultEnv: false, domains: [] }, "apps.example.org")).toEqual(["api.staging.shop.acme.apps.example.org"]);
  });

  test("Host headers are normalized and junk never matches", () => {
    expect(normalizeHost("Api.Shop.Acme.Localhost:8080")).toBe("api.shop.acme.localhost");
    expect(normalizeHost("app.example.com.")).toBe("app.example.com");
    expect(normalizeHost(null)).toBeNull();
    expect(normalizeHost("")).toBeNull();
    expect(normalizeHost("[::1]:80")).toBeNull();
    expect(normalizeHost("a b.example")).toBeNull();
    expect(normalizeHost("evil.example:80x")).toBeNull();
    expect(normalizeHost("-bad.example")).toBeNull();
  });
});

describe("RouteTable", () => {
  test("round robin skips replicas marked down, and setReplicas returns the replaced ones", () => {
    const t = new RouteTable();
    t.setReplicas("s", [
      { id: "a", port: 1 },
      { id: "b", port: 2 },
    ]);
    expect([t.pick("s")!.id, t.pick("s")!.id, t.pick("s")!.id]).toEqual(["a", "b", "a"]);
    t.markDown(t.replicasOf("s")[1]!);
    expect([t.pick("s")!.id, t.pick("s")!.id]).toEqual(["a", "a"]);
    const gone = t.setReplicas("s", [{ id: "c", port: 3 }]);
    expect(gone.map((r) => r.id).sort()).toEqual(["a", "b"]);
    expect(t.pick("s")!.id).toBe("c");
    expect(t.pick("other")).toBeNull();
  });

  test("drain waits for in-flight requests of the replaced replicas", async () => {
    const t = new RouteTable();
    t.setReplicas("s", [{ id: "a", port: 1 }]);
    const r = t.pick("s")!;
    t.begin(r);
    const gone = t.setReplicas("s", []);
    let drained = false;
    const p = t.drain(gone, 5000).then((ok) => (drained = ok));
    await Bun.sleep(50);
    expect(drained).toBe(false);
    t.end(r);
    await p;
    expect(drained).toBe(true);
  });
});

describe("proxy", () => {
  const table = new RouteTable();
  let router: RunningRouter;
  const backends: ReturnType<typeof Bun.serve>[] = [];
  let refreshes = 0;

  const backend = (name: string) => {
    const s = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req, server) {
        const url = new URL(req.url);
        if (url.pathname === "/ws" && server.upgrade(req, { data: undefined })) return undefined;
        if (url.pathname === "/echo") return new Response(req.body, { headers: { "x-backend": name } });
        if (url.pathname === "/stream") {
          const stream = new ReadableStream({
            async start(c) {
              for (let i = 0; i < 5; i++) {
                c.enqueue(new TextEncoder().encode(`chunk${i}\n`));
                await Bun.sleep(20);
              }
              c.close();
            },
          });
          return new Response(stream);
        }
        if (url.pathname === "/big") return new Response("x".repeat(1024 * 1024));
        if (url.pathname === "/echo-cookie") return Response.json({ cookieLength: req.headers.get("cookie")?.length ?? 0 });
        return Response.json({
          backend: name,
          host: req.headers.get("host"),
          xff: req.headers.get("x-forwarded-for"),
          proto: req.headers.get("x-forwarded-proto"),
          xhost: req.headers.get("x-forwarded-host"),
          path: url.pathname + url.search,
        });
      },
      websocket: {
        message(ws, msg) {
          ws.send(`echo:${typeof msg === "string" ? msg : new TextDecoder().decode(msg)}`);
        },
      },
    });
    backends.push(s);
    return s;
  };

  beforeAll(() => {
    const a = backend("a");
    const b = backend("b");
    table.setHosts(new Map([["api.shop.acme.localhost", "svc-1"], ["down.shop.acme.localhost", "svc-2"], ["empty.shop.acme.localhost", "svc-3"]]));
    table.setReplicas("svc-1", [
      { id: "a", port: a.port! },
      { id: "b", port: b.port! },
    ]);
    router = startRouter({
      hostname: "127.0.0.1",
      port: 0,
      table,
      refreshHosts: () => {
        refreshes++;
        table.setHosts(new Map([...["api.shop.acme.localhost", "late.shop.acme.localhost"].map((h) => [h, "svc-1"] as [string, string]), ["down.shop.acme.localhost", "svc-2"], ["empty.shop.acme.localhost", "svc-3"]]));
      },
    });
  });
  afterAll(async () => {
    await router.stop();
    for (const b of backends) b.stop(true);
  });

  const get = (host: string, path = "/", init: RequestInit = {}) =>
    fetch(`${router.url}${path}`, { ...init, headers: { host, ...((init.headers as Record<string, string>) ?? {}) } });

  test("routes by Host, round robin, with X-Forwarded-* and the original Host", async () => {
    const seen = [];
    for (let i = 0; i < 4; i++) {
      const res = await get("API.shop.acme.localhost:8080", "/hello?x=1");
      expect(res.status).toBe(200);
      const body = (await res.json()) as Record<string, string>;
      expect(body.path).toBe("/hello?x=1");
      expect(body.host).toBe("API.shop.acme.localhost:8080");
      expect(body.xff).toBe("127.0.0.1");
      expect(body.proto).toBe("http");
      expect(body.xhost).toBe("API.shop.acme.localhost:8080");
      seen.push(body.backend);
    }
    expect(seen).toEqual(["a", "b", "a", "b"]);
  });

  test("unknown host → 404 page; a host added later is found after a refresh", async () => {
    const res = await get("nope.example.com");
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("text/html");
    expect(await res.text()).toContain("404");
    const late = await get("late.shop.acme.localhost");
    expect(late.status).toBe(200);
    expect(refreshes).toBeGreaterThan(0);
  });

  test("no replica → 503; only dead replicas → 502; a dead replica is skipped for GETs", async () => {
    expect((await get("empty.shop.acme.localhost")).status).toBe(503);
    const dead = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("x") });
    const deadPort = dead.port!;
    dead.stop(true);
    table.setReplicas("svc-2", [{ id: "dead", port: deadPort }]);
    const res = await get("down.shop.acme.localhost");
    expect(res.status).toBe(502);
    expect(await res.text()).toContain("Bad Gateway");
    // a dead replica among live ones: every GET still succeeds
    table.setReplicas("svc-2", [
      { id: "dead2", port: deadPort },
      { id: "a", port: backends[0]!.port! },
    ]);
    for (let i = 0; i < 4; i++) expect((await get("down.shop.acme.localhost")).status).toBe(200);
  });

  test("request and response bodies stream through, large bodies intact", async () => {
    const payload = "p".repeat(300_000);
    const echo = await get("api.shop.acme.localhost", "/echo", { method: "POST", body: payload });
    expect(echo.status).toBe(200);
    expect((await echo.text()).length).toBe(payload.length);
    const stream = await get("api.shop.acme.localhost", "/stream");
    expect(await stream.text()).toBe("chunk0\nchunk1\nchunk2\nchunk3\nchunk4\n");
    const big = await get("api.shop.acme.localhost", "/big");
    expect((await big.text()).length).toBe(1024 * 1024);
    for (const r of table.replicasOf("svc-1")) expect(r.inflight).toBe(0);
  });

  test("a request with a 12 KB cookie header reaches the backend whole", async () => {
    const cookie = "c=" + "x".repeat(12_000); // Bun.serve refuses heads over 16 KB (431)
    const res = await get("api.shop.acme.localhost", "/echo-cookie", { headers: { cookie } });
    expect(res.status).toBe(200);
    expect((await res.json()).cookieLength).toBe(cookie.length);
  });

  test("HEAD keeps the length without a body; 204 and 304 pass through; bodies of other methods use the streaming path", async () => {
    const head = await get("api.shop.acme.localhost", "/big", { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(await head.text()).toBe("");
    const del = await get("api.shop.acme.localhost", "/echo", { method: "DELETE" });
    expect(del.status).toBe(200);
    const put = await get("api.shop.acme.localhost", "/echo", { method: "PUT", body: "put-body" });
    expect(await put.text()).toBe("put-body");
  });

  test("raw backends: close-delimited bodies, a backend that drops idle keep-alive connections, garbage answers → 502", async () => {
    // a hand-written HTTP/1.1 server: /close answers without a length and closes; /ka answers with
    // a length and keep-alive, then silently closes the idle connection; /junk answers nonsense
    const server = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(sock, d) {
          const line = new TextDecoder().decode(d).split("\r\n")[0] ?? "";
          if (line.includes("/close")) {
            sock.write("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nuntil-close");
            sock.end();
          } else if (line.includes("/junk")) {
            sock.write("NOT HTTP AT ALL\r\n\r\n");
            sock.end();
          } else {
            sock.write("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nka");
            setTimeout(() => sock.end(), 20);
          }
        },
      },
    });
    table.setHosts(new Map([...["api.shop.acme.localhost"].map((h) => [h, "svc-1"] as [string, string]), ["raw.shop.acme.localhost", "svc-raw"]]));
    table.setReplicas("svc-raw", [{ id: "raw", port: server.port }]);
    try {
      for (let i = 0; i < 5; i++) {
        const ka = await get("raw.shop.acme.localhost", "/ka");
        expect(ka.status).toBe(200);
        expect(await ka.text()).toBe("ka");
        await Bun.sleep(40); // the backend has dropped the pooled connection by now
      }
      // a backend that closes every connection: the body ends at close
      for (let i = 0; i < 2; i++) {
        const closed = await get("raw.shop.acme.localhost", "/close");
        expect(closed.status).toBe(200);
        expect(await closed.text()).toBe("until-close");
      }
      const junk = await get("raw.shop.acme.localhost", "/junk");
      expect(junk.status).toBe(502);
      expect(table.replicasOf("svc-raw")[0]!.inflight).toBe(0);
    } finally {
      server.stop(true);
    }
  });

  test("malformed and odd requests get an answer and never take the router down", async () => {
    const raw = async (text: string) => {
      const chunks: string[] = [];
      await new Promise<void>((resolve) => {
        Bun.connect({
          hostname: "127.0.0.1",
          port: router.port,
          socket: {
            open: (s) => void s.write(text),
            data: (_s, d) => void chunks.push(new TextDecoder().decode(d)),
            close: () => resolve(),
            error: () => resolve(),
          },
        });
        setTimeout(resolve, 2000);
      });
      return chunks.join("");
    };
    expect(await raw("GET / HTTP/1.0\r\n\r\n")).toStartWith("HTTP/1.1 404");
    expect(await raw("GET / HTTP/1.1\r\nHost: \r\nConnection: close\r\n\r\n")).toStartWith("HTTP/1.1 404");
    // a path that looks like an authority stays a path on the same loopback backend
    const odd = await raw("GET //evil.example/x HTTP/1.1\r\nHost: api.shop.acme.localhost\r\nConnection: close\r\n\r\n");
    expect(odd).toStartWith("HTTP/1.1 200");
    expect(odd).toMatch(/"backend":"[ab]"/);
    expect(odd).toContain('evil.example/x"');
    expect(await raw("BLAH\r\n\r\n")).toStartWith("HTTP/1.1 400");
    const res = await get("api.shop.acme.localhost", "/still-up");
    expect(res.status).toBe(200);
  });

  test("WebSocket upgrade is bridged to the backend (echo)", async () => {
    const ws = new WebSocket(`ws://127.0.0.1:${router.port}/ws`, { headers: { host: "api.shop.acme.localhost" } } as never);
    const got: string[] = [];
    await new Promise<void>((resolve, reject) => {
      ws.onopen = () => {
        ws.send("hello");
        ws.send("again");
      };
      ws.onmessage = (e) => {
        got.push(String(e.data));
        if (got.length === 2) resolve();
      };
      ws.onerror = () => reject(new Error("websocket failed"));
      setTimeout(() => reject(new Error("timeout")), 5000);
    });
    expect(got).toEqual(["echo:hello", "echo:again"]);
    ws.close();
  });
});
