// WebSocket upgrades bridged to a replica: Bun.serve's websocket on the client side, a WebSocket
// client to the backend; messages queue until both sides are open; close codes pass through.
import type { Server, ServerWebSocket, WebSocketHandler } from "bun";
import { requestIdOf } from "./headers";
import { badGatewayPage, errorPage, noReplicaPage } from "./pages";
import type { Replica, RouteTable } from "./table";

export type WsData = { replica: Replica; backend: WebSocket; pending: (string | ArrayBuffer)[]; client?: ServerWebSocket<WsData> };

export const isWebSocketUpgrade = (req: Request): boolean => (req.headers.get("upgrade") ?? "").toLowerCase() === "websocket";

export async function upgradeWebSocket(table: RouteTable, req: Request, serviceId: string, host: string, server: Server<WsData>): Promise<Response | undefined> {
  const url = new URL(req.url);
  const requestId = requestIdOf(req);
  const r = table.pick(serviceId);
  if (!r) return noReplicaPage(requestId);
  const headers: Record<string, string> = {};
  for (const name of ["cookie", "authorization", "origin", "user-agent"]) {
    const v = req.headers.get(name);
    if (v) headers[name] = v;
  }
  headers["x-forwarded-host"] = req.headers.get("host") ?? host;
  headers["x-forwarded-proto"] = "http";
  headers["x-request-id"] = requestId;
  const ip = server.requestIP(req)?.address;
  if (ip) headers["x-forwarded-for"] = ip;
  const protocols = (req.headers.get("sec-websocket-protocol") ?? "").split(",").map((s) => s.trim()).filter(Boolean);
  table.begin(r);
  const backend = new WebSocket(`ws://127.0.0.1:${r.port}${url.pathname}${url.search}`, { headers, protocols } as never);
  backend.binaryType = "arraybuffer";
  const opened = await new Promise<boolean>((resolve) => {
    backend.onopen = () => resolve(true);
    backend.onerror = () => resolve(false);
    backend.onclose = () => resolve(false);
  });
  if (!opened) {
    table.end(r);
    table.markDown(r);
    return badGatewayPage(requestId, "The application refused the WebSocket connection.");
  }
  const data: WsData = { replica: r, backend, pending: [] };
  // the backend may speak first: hold its messages until the client side is open
  backend.onmessage = (e) => (data.client ? data.client.send(e.data as string | ArrayBuffer) : data.pending.push(e.data as string | ArrayBuffer));
  backend.onclose = (e) => data.client?.close(safeCode(e.code), e.reason);
  const ok = server.upgrade(req, { data, headers: backend.protocol ? { "sec-websocket-protocol": backend.protocol } : undefined });
  if (!ok) {
    backend.close();
    table.end(r);
    return errorPage(400, "Bad Request", "WebSocket upgrade failed.", requestId);
  }
  return undefined;
}

/** Bun.serve's `websocket` handlers for bridged connections. */
export function bridgeHandlers(table: RouteTable): WebSocketHandler<WsData> {
  return {
    open(ws) {
      const { backend } = ws.data;
      ws.data.client = ws;
      for (const m of ws.data.pending.splice(0)) ws.send(m);
      if (backend.readyState !== WebSocket.OPEN) ws.close(1011, "backend closed");
      backend.onerror = () => ws.close(1011, "backend error");
    },
    message(ws, message) {
      const { backend } = ws.data;
      if (backend.readyState === WebSocket.OPEN) backend.send(message);
    },
    close(ws, code, reason) {
      const { backend, replica } = ws.data;
      if (backend.readyState === WebSocket.OPEN || backend.readyState === WebSocket.CONNECTING) backend.close(safeCode(code), reason);
      table.end(replica);
    },
  };
}

// 1005/1006/1015 are reserved: they may be reported, never sent
const safeCode = (code: number | undefined): number => (code && code >= 1000 && code < 5000 && ![1005, 1006, 1015].includes(code) ? code : 1000);
