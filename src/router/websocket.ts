// WebSocket upgrades bridged to a replica: Bun.serve's websocket on the client side, Bun's
// WebSocket client to the backend. Text and binary frames keep their type, pings travel both
// ways (each hop also answers them), close codes and reasons pass through, an abnormal end on one
// side is an abnormal end on the other, and each direction has backpressure (a slow reader pauses
// the socket it is fed from instead of growing a buffer in the router).
import type { WebSocket as BunWebSocket, Server, ServerWebSocket, WebSocketHandler } from "bun";
import { requestIdOf, upstreamHeaders } from "./headers";
import { badGatewayPage, errorPage, noReplicaPage, timeoutPage } from "./pages";
import type { OpenSocket, Replica, RouteTable } from "./table";

export type WsData = {
  replica: Replica;
  backend: BunWebSocket;
  /** backend messages read before the client side opened (the backend is paused meanwhile) */
  pending: (string | Buffer)[];
  client?: ServerWebSocket<WsData>;
  handle: OpenSocket;
  /** runs once when the bridge ends (per-client connection count) */
  release: () => void;
  resumeTimer?: ReturnType<typeof setInterval>;
};

// client → backend: above this many bytes queued towards the backend the client socket is paused
// until the queue is below the low mark (Bun's client has no drain event, so it is polled)
const BACKEND_HIGH_WATER = 1024 * 1024;
const BACKEND_LOW_WATER = 256 * 1024;
const RESUME_POLL_MS = 10;

export const isWebSocketUpgrade = (req: Request): boolean => (req.headers.get("upgrade") ?? "").toLowerCase() === "websocket";

// the backend handshake is the WebSocket client's own: these must not be copied from the client
const HANDSHAKE = ["sec-websocket-key", "sec-websocket-version", "sec-websocket-extensions", "sec-websocket-protocol", "sec-websocket-accept", "content-length"];

export type UpgradeContext = { table: RouteTable; serviceId: string; host: string; clientIp?: string; proto: "http" | "https"; release: () => void };

export async function upgradeWebSocket(c: UpgradeContext, req: Request, server: Server<WsData>): Promise<Response | undefined> {
  const { table, serviceId } = c;
  const requestId = requestIdOf(req);
  const r = table.pick(serviceId);
  if (!r) return c.release(), noReplicaPage(requestId);
  const headers = upstreamHeaders(req, c.host, c.clientIp, requestId, c.proto, true);
  for (const name of HANDSHAKE) headers.delete(name);
  const protocols = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  const url = new URL(req.url);
  const backend = new WebSocket(`ws://127.0.0.1:${r.port}${url.pathname}${url.search}`, { headers, protocols, perMessageDeflate: false } as never) as unknown as BunWebSocket;
  backend.binaryType = "nodebuffer";
  const opened = await openedWithin(backend, table.upstreamTimeoutMs(serviceId));
  if (opened !== "open") {
    c.release();
    if (opened === "timeout") return backend.terminate(), timeoutPage(requestId);
    if (opened === "refused") table.markDown(r);
    return badGatewayPage(requestId, "The application refused the WebSocket connection.");
  }
  // hold the backend's messages until the client side is open
  backend.pause();
  const data: WsData = { replica: r, backend, pending: [], handle: { close: () => {} }, release: once(c.release) };
  backend.onmessage = (e) => data.pending.push(e.data as string | Buffer);
  backend.onclose = (e) => {
    table.detachSocket(r, data.handle);
    data.release();
  };
  table.attachSocket(r, data.handle);
  const ok = server.upgrade(req, { data, headers: backend.protocol ? { "sec-websocket-protocol": backend.protocol } : undefined });
  if (!ok) {
    backend.close(1011, "client upgrade failed");
    return errorPage(400, "Bad Request", "WebSocket upgrade failed.", requestId);
  }
  return undefined;
}

/** Waits for the backend handshake: open, refused (nothing listening), failed, or timeout. */
function openedWithin(backend: BunWebSocket, ms: number): Promise<"open" | "refused" | "failed" | "timeout"> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), ms);
    const settle = (v: "open" | "refused" | "failed") => (clearTimeout(timer), resolve(v));
    backend.onopen = () => settle("open");
    backend.onerror = (e) => settle(String((e as ErrorEvent & { error?: { code?: string } }).error?.code ?? "").includes("REFUSED") ? "refused" : "failed");
    backend.onclose = () => settle("failed");
  });
}

const once = (f: () => void) => {
  let done = false;
  return () => {
    if (!done) (done = true), f();
  };
};

// 1005 (no code), 1006 (abnormal) and 1015 (TLS) are reported, never sent
const sendable = (code: number): boolean => (code >= 1000 && code <= 1014 && ![1004, 1005, 1006].includes(code)) || (code >= 3000 && code <= 4999);

/** Ends a socket the way the other side ended: the same code and reason, no code, or abruptly. */
function closeLike(target: { close: (code?: number, reason?: string) => void; terminate: () => void }, code: number, reason: string): void {
  if (code === 1006) target.terminate();
  else if (sendable(code)) target.close(code, reason);
  else target.close();
}

/** Bun.serve's `websocket` handlers for bridged connections; `open` holds every live client socket. */
export function bridgeHandlers(table: RouteTable, open: Set<OpenSocket>): WebSocketHandler<WsData> {
  return {
    idleTimeout: 120,
    sendPings: true,
    // a client that falls this far behind is closed rather than dropping messages (send → 0)
    backpressureLimit: 16 * 1024 * 1024,
    closeOnBackpressureLimit: true,
    maxPayloadLength: 16 * 1024 * 1024,
    open(ws) {
      const data = ws.data;
      const { backend } = data;
      data.client = ws;
      data.handle.close = (code, reason) => {
        ws.close(code, reason);
        if (backend.readyState <= WebSocket.OPEN) backend.close(code, reason);
      };
      open.add(data.handle);
      if (backend.readyState !== WebSocket.OPEN) return void ws.close(1011, "backend closed");
      for (const m of data.pending.splice(0)) ws.send(m);
      backend.onmessage = (e) => {
        // -1: queued beyond what the client has read; stop reading the backend until `drain`
        if (ws.send(e.data as string | Buffer) === -1) backend.pause();
      };
      backend.addEventListener("ping", (e: MessageEvent) => ws.ping(e.data as Buffer));
      backend.onclose = (e) => {
        table.detachSocket(data.replica, data.handle);
        closeLike(ws, e.code, e.reason);
        data.release();
      };
      backend.resume();
    },
    message(ws, message) {
      const { backend } = ws.data;
      if (backend.readyState !== WebSocket.OPEN) return;
      backend.send(message);
      if (backend.bufferedAmount > BACKEND_HIGH_WATER && !ws.data.resumeTimer) {
        ws.pause();
        ws.data.resumeTimer = setInterval(() => {
          if (backend.readyState === WebSocket.OPEN && backend.bufferedAmount > BACKEND_LOW_WATER) return;
          clearInterval(ws.data.resumeTimer);
          ws.data.resumeTimer = undefined;
          ws.resume();
        }, RESUME_POLL_MS);
      }
    },
    drain(ws) {
      ws.data.backend.resume();
    },
    ping(ws, data) {
      if (ws.data.backend.readyState === WebSocket.OPEN) ws.data.backend.ping(data);
    },
    close(ws, code, reason) {
      const { backend, replica, handle } = ws.data;
      clearInterval(ws.data.resumeTimer);
      table.detachSocket(replica, handle);
      open.delete(handle);
      if (backend.readyState <= WebSocket.OPEN) closeLike(backend, code, reason);
      ws.data.release();
    },
  };
}
