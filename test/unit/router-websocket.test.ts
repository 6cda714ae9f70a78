// WebSockets through the router against Bun WebSocket backends in the route table: text and
// binary frames, subprotocols and forwarded headers, pings both ways, close codes both ways, an
// abrupt end, backpressure from a paused client reaching the backend, draining of a retired
// replica (50 sockets closed with 1001, none left hanging) and the per-client limit.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import type { Server, ServerWebSocket } from "bun";
import { startRouter, type RunningRouter } from "../../src/router/proxy";
import { RouteTable } from "../../src/router/table";

setDefaultTimeout(120_000);

type BackendLog = { headers: Record<string, string>[]; pings: string[]; closes: { code: number; reason: string }[]; drains: number };

function wsBackend(name: string, log: BackendLog): Server<{ path: string }> {
  return Bun.serve<{ path: string }>({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req, srv) {
      log.headers.push(Object.fromEntries(req.headers));
      const protocol = req.headers.get("sec-websocket-protocol")?.split(",")[0]?.trim();
      const ok = srv.upgrade(req, { data: { path: new URL(req.url).pathname }, headers: protocol ? { "sec-websocket-protocol": protocol } : undefined });
      return ok ? undefined : new Response(`plain ${name}`);
    },
    websocket: {
      open(ws) {
        if (ws.data.path === "/flood") void flood(ws, log);
        if (ws.data.path === "/ping-me") ws.ping("from-backend");
      },
      message(ws, m) {
        const text = typeof m === "string" ? m : null;
        if (text === "close-4002") return ws.close(4002, "backend says bye");
        if (text === "terminate") return ws.terminate();
        if (text === "who") return void ws.send(name);
        ws.send(m); // echo, same frame type
      },
      ping(_ws, data) {
        log.pings.push(data.toString());
      },
      close(_ws, code, reason) {
        log.closes.push({ code, reason });
      },
      drain() {
        log.drains++;
      },
    },
  });
}

// 160 messages of 256 KiB = 40 MiB, more than the router's 16 MiB backpressure limit: only
// arrives whole if the router stops reading the backend while the client is not reading
const FLOOD_COUNT = 160;
const FLOOD_SIZE = 256 * 1024;
async function flood(ws: ServerWebSocket<{ path: string }>, log: BackendLog) {
  for (let i = 0; i < FLOOD_COUNT; i++) {
    const buf = new Uint8Array(FLOOD_SIZE).fill(i % 251);
    // -1: queued, but beyond what the peer has read: wait for `drain` before the next one
    const before = log.drains;
    if (ws.send(buf) === -1) while (log.drains === before && ws.readyState === 1) await Bun.sleep(5);
  }
}

const newLog = (): BackendLog => ({ headers: [], pings: [], closes: [], drains: 0 });

/** A client socket through the router with a Host header; resolves once open. */
async function connect(router: RunningRouter, host: string, path = "/", protocols?: string[]) {
  const ws = new WebSocket(`ws://127.0.0.1:${router.port}${path}`, { headers: { host }, protocols } as never) as unknown as import("bun").WebSocket;
  ws.binaryType = "arraybuffer";
  const messages: (string | ArrayBuffer)[] = [];
  ws.addEventListener("message", (e: MessageEvent) => messages.push(e.data));
  const closed = new Promise<{ code: number; reason: string }>((r) => ws.addEventListener("close", (e: CloseEvent) => r({ code: e.code, reason: e.reason })));
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve());
    ws.addEventListener("error", () => reject(new Error("websocket failed to open")));
  });
  const next = async (n = 1) => {
    for (let i = 0; i < 500 && messages.length < n; i++) await Bun.sleep(10);
    return messages.splice(0, n);
  };
  return { ws, messages, closed, next };
}

describe("WebSockets through the router", () => {
  const table = new RouteTable();
  const logA = newLog();
  const logB = newLog();
  let a: Server<{ path: string }>;
  let b: Server<{ path: string }>;
  let router: RunningRouter;

  beforeAll(() => {
    a = wsBackend("a", logA);
    b = wsBackend("b", logB);
    table.setHosts(new Map([["ws.localhost", "ws"], ["few.localhost", "few"]]));
    table.setReplicas("ws", [{ id: "a", port: a.port! }]);
    table.setReplicas("few", [{ id: "b-few", port: b.port! }]);
    router = startRouter({ hostname: "127.0.0.1", port: 0, table, maxPerClient: 300 });
  });
  afterAll(async () => {
    await router.stop();
    a.stop(true);
    b.stop(true);
  });

  test("text and binary frames keep their type; subprotocol, Host and X-Forwarded-* reach the backend", async () => {
    const c = await connect(router, "ws.localhost", "/chat?room=1", ["v2.chat", "v1.chat"]);
    expect(c.ws.protocol).toBe("v2.chat");
    c.ws.send("hello");
    c.ws.send(new Uint8Array([0, 1, 2, 255]));
    const [text, bin] = await c.next(2);
    expect(text).toBe("hello");
    expect(bin).toBeInstanceOf(ArrayBuffer);
    expect([...new Uint8Array(bin as ArrayBuffer)]).toEqual([0, 1, 2, 255]);
    const h = logA.headers.at(-1)!;
    expect(h.host).toBe("ws.localhost");
    expect(h["x-forwarded-for"]).toBe("127.0.0.1");
    expect(h["x-forwarded-proto"]).toBe("http");
    expect(h["x-request-id"]).toMatch(/^[0-9a-f-]{36}$/);
    c.ws.close(1000);
    await c.closed;
  });

  test("pings travel both ways (each hop also answers them)", async () => {
    const c = await connect(router, "ws.localhost", "/ping-me");
    const fromBackend = new Promise<string>((r) => c.ws.addEventListener("ping", (e: MessageEvent) => r(Buffer.from(e.data as ArrayBuffer).toString())));
    const pong = new Promise<string>((r) => c.ws.addEventListener("pong", (e: MessageEvent) => r(Buffer.from(e.data as ArrayBuffer).toString())));
    expect(await fromBackend).toBe("from-backend");
    c.ws.ping("from-client");
    expect(await pong).toBe("from-client");
    for (let i = 0; i < 100 && !logA.pings.includes("from-client"); i++) await Bun.sleep(10);
    expect(logA.pings).toContain("from-client");
    c.ws.close();
    await c.closed;
  });

  test("close codes and reasons pass through both ways; an abrupt backend end is abrupt for the client", async () => {
    const c1 = await connect(router, "ws.localhost");
    c1.ws.close(4001, "client says bye");
    await c1.closed;
    for (let i = 0; i < 100 && !logA.closes.some((x) => x.code === 4001); i++) await Bun.sleep(10);
    expect(logA.closes).toContainEqual({ code: 4001, reason: "client says bye" });

    const c2 = await connect(router, "ws.localhost");
    c2.ws.send("close-4002");
    expect(await c2.closed).toEqual({ code: 4002, reason: "backend says bye" });

    const c3 = await connect(router, "ws.localhost");
    c3.ws.send("terminate");
    expect((await c3.closed).code).toBe(1006);
    for (const r of table.replicasOf("ws")) expect(r.sockets.size).toBe(0);
  });

  test("backpressure: a paused client pauses the backend; 40 MiB arrive whole and in order", async () => {
    const c = await connect(router, "ws.localhost", "/flood");
    c.ws.pause();
    await Bun.sleep(500);
    c.ws.resume();
    const got = await c.next(FLOOD_COUNT);
    expect(got.length).toBe(FLOOD_COUNT);
    got.forEach((m, i) => {
      const u = new Uint8Array(m as ArrayBuffer);
      expect(u.length).toBe(FLOOD_SIZE);
      expect(u[0]).toBe(i % 251);
    });
    // the backend itself had to wait for drains: the router passed the pressure on
    expect(logA.drains).toBeGreaterThan(0);
    c.ws.close();
    await c.closed;
  });

  test("a retired replica: 50 open sockets are closed with 1001 after the drain time, none hang; new ones go to the new replica", async () => {
    table.wsDrainMs = 500;
    const sockets = await Promise.all(Array.from({ length: 50 }, () => connect(router, "ws.localhost")));
    const retired = table.setReplicas("ws", [{ id: "b", port: b.port! }]);
    const fresh = await connect(router, "ws.localhost");
    fresh.ws.send("who");
    expect(await fresh.next()).toEqual(["b"]);
    // the old sockets still work during the drain
    sockets[0]!.ws.send("who");
    expect(await sockets[0]!.next()).toEqual(["a"]);
    const started = Date.now();
    expect(await table.drain(retired, 5000)).toBe(true);
    const closes = await Promise.race([Promise.all(sockets.map((s) => s.closed)), Bun.sleep(5000).then(() => null)]);
    expect(closes).not.toBeNull();
    expect(new Set(closes!.map((c) => c.code))).toEqual(new Set([1001]));
    expect(Date.now() - started).toBeGreaterThanOrEqual(400);
    expect(retired[0]!.sockets.size).toBe(0);
    for (let i = 0; i < 100 && logA.closes.filter((x) => x.code === 1001).length < 50; i++) await Bun.sleep(10);
    expect(logA.closes.filter((x) => x.code === 1001).length).toBe(50);
    expect(fresh.ws.readyState).toBe(WebSocket.OPEN);
    fresh.ws.close();
    await fresh.closed;
  });

  test("a backend that refuses the upgrade → 502; beyond the per-client limit → 429", async () => {
    const plain = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("no websockets here", { status: 404 }) });
    try {
      table.setHosts(new Map([["ws.localhost", "ws"], ["few.localhost", "few"], ["plain.localhost", "plain"]]));
      table.setReplicas("plain", [{ id: "plain", port: plain.port! }]);
      const res = await fetch(`${router.url}/`, { headers: { host: "plain.localhost", upgrade: "websocket", connection: "Upgrade", "sec-websocket-key": "dGhlIHNhbXBsZSBub25jZQ==", "sec-websocket-version": "13" } });
      expect(res.status).toBe(502);
    } finally {
      plain.stop(true);
    }
    const small = startRouter({ hostname: "127.0.0.1", port: 0, table, maxPerClient: 3 });
    try {
      const open = await Promise.all([1, 2, 3].map(() => connect(small, "few.localhost")));
      const res = await fetch(`${small.url}/`, { headers: { host: "few.localhost" } });
      expect(res.status).toBe(429);
      open[0]!.ws.close();
      await open[0]!.closed;
      for (let i = 0; i < 50; i++) if ((await fetch(`${small.url}/`, { headers: { host: "few.localhost" } })).status === 200) break; else await Bun.sleep(20);
      expect((await fetch(`${small.url}/`, { headers: { host: "few.localhost" } })).status).toBe(200);
      for (const s of open.slice(1)) s.ws.close();
    } finally {
      await small.stop();
    }
  });
});
