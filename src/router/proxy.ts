// The app router: an HTTP reverse proxy on --router. Host header → service → one of its healthy
// web replicas on 127.0.0.1 (round robin); streamed bodies; WebSocket upgrade bridged to the
// backend; 404 for unknown hosts, 503 with no healthy replica, 502 when the backend fails.
import type { Server, ServerWebSocket } from "bun";
import { normalizeHost } from "./hosts";
import type { Replica, RouteTable } from "./table";
import { UpstreamConnectError, UpstreamPool } from "./upstream";

export type RouterOptions = {
  hostname: string;
  port: number;
  table: RouteTable;
  /** Reload the hostname map (throttled by the router); called when a host is not known. */
  refreshHosts?: () => void;
  onError?: (message: string, fields: Record<string, unknown>) => void;
};

export type RunningRouter = { port: number; url: string; stop: () => Promise<void> };

const HOP_BY_HOP = ["connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "te", "trailer", "transfer-encoding", "upgrade", "proxy-connection"];
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);
// bodyless requests of these methods go through the pooled HTTP/1.1 client; the rest use fetch()
const POOLED = new Set(["GET", "HEAD", "OPTIONS", "DELETE"]);
// bodies up to this size are read whole before answering, so a replica is "done" precisely
const BUFFER_LIMIT = 256 * 1024;
const REFRESH_MS = 1000;

export function errorPage(status: number, title: string, detail: string): Response {
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>${status} ${title}</title></head><body><h1>${status} ${title}</h1><p>${detail}</p><hr><p>ancla router</p></body></html>\n`;
  return new Response(html, { status, headers: { "content-type": "text/html; charset=utf-8", "cache-control": "no-store" } });
}

type WsData = { replica: Replica; backend: WebSocket; pending: (string | ArrayBuffer)[]; client?: ServerWebSocket<WsData> };

function forwardHeaders(req: Request, host: string, clientIp: string | undefined): Headers {
  const h = new Headers(req.headers);
  for (const name of HOP_BY_HOP) h.delete(name);
  const prior = req.headers.get("x-forwarded-for");
  if (clientIp) h.set("x-forwarded-for", prior ? `${prior}, ${clientIp}` : clientIp);
  h.set("x-forwarded-proto", "http");
  h.set("x-forwarded-host", req.headers.get("host") ?? host);
  return h;
}

const HOP = new Set([...HOP_BY_HOP, "x-forwarded-proto", "x-forwarded-host", "x-forwarded-for", "content-length"]);

/** The upstream request head for a bodyless request, built straight from the incoming headers. */
function pooledHead(req: Request, path: string, host: string, clientIp: string | undefined): string {
  let head = `${req.method} ${path} HTTP/1.1\r\n`;
  let prior: string | null = null;
  req.headers.forEach((value, name) => {
    if (name === "x-forwarded-for") prior = value;
    if (HOP.has(name)) return;
    head += `${name}: ${value.replace(/[\r\n]/g, " ")}\r\n`;
  });
  const xff = clientIp ? (prior ? `${prior}, ${clientIp}` : clientIp) : prior;
  if (xff) head += `x-forwarded-for: ${String(xff).replace(/[\r\n]/g, " ")}\r\n`;
  head += `x-forwarded-proto: http\r\nx-forwarded-host: ${(req.headers.get("host") ?? host).replace(/[\r\n]/g, " ")}\r\nconnection: keep-alive\r\n\r\n`;
  return head;
}

/** Wraps a streamed body so `done` runs once it ends, fails or the client goes away. */
function trackedBody(body: ReadableStream<Uint8Array>, done: () => void): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  let finished = false;
  const finish = () => {
    if (!finished) (finished = true), done();
  };
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      try {
        const { done: end, value } = await reader.read();
        if (end) {
          finish();
          ctrl.close();
        } else ctrl.enqueue(value);
      } catch (e) {
        finish();
        ctrl.error(e);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
}

export function startRouter(opts: RouterOptions): RunningRouter {
  const { table } = opts;
  const pool = new UpstreamPool();
  let lastRefresh = 0;
  const lookup = (host: string): string | undefined => {
    let id = table.serviceFor(host);
    if (!id && opts.refreshHosts && Date.now() - lastRefresh > REFRESH_MS) {
      lastRefresh = Date.now();
      try {
        opts.refreshHosts();
      } catch (e) {
        opts.onError?.("router host refresh failed", { error: (e as Error).message });
      }
      id = table.serviceFor(host);
    }
    return id;
  };

  async function proxyHttp(req: Request, serviceId: string, host: string, server: Server<WsData>): Promise<Response> {
    const path = pathOf(req.url);
    const clientIp = server.requestIP(req)?.address;
    const poolable = req.body === null && POOLED.has(req.method);
    let headers: Headers | undefined;
    let head: string | undefined;
    const retryable = IDEMPOTENT.has(req.method) && req.body === null;
    const tried = new Set<string>();
    for (;;) {
      const r = table.pick(serviceId, tried);
      if (!r) {
        return tried.size
          ? errorPage(502, "Bad Gateway", "The application did not answer.")
          : errorPage(503, "Service Unavailable", "No healthy replica of this application is running.");
      }
      tried.add(r.id);
      table.begin(r);
      if (poolable && pool.prefers(r.port)) {
        let streamed = false;
        try {
          head ??= pooledHead(req, path, host, clientIp);
          const up = await pool.request(r.port, head, req.method === "HEAD", BUFFER_LIMIT, () => table.end(r));
          streamed = up.body instanceof ReadableStream;
          return new Response(up.body as BodyInit | null, { status: up.status, statusText: up.statusText, headers: up.headers });
        } catch (e) {
          if (e instanceof UpstreamConnectError) {
            table.markDown(r);
            continue;
          }
          opts.onError?.("router backend failed", { port: r.port, error: (e as Error).message });
          return errorPage(502, "Bad Gateway", "The application did not answer.");
        } finally {
          if (!streamed) table.end(r);
        }
      }
      let res: Response;
      try {
        res = await fetch(`http://127.0.0.1:${r.port}${path}`, {
          method: req.method,
          headers: (headers ??= forwardHeaders(req, host, clientIp)),
          body: req.body,
          redirect: "manual",
          decompress: false,
          // Bun: stream the request body instead of buffering it
          duplex: "half",
        } as RequestInit);
      } catch (e) {
        table.end(r);
        table.markDown(r);
        if (retryable) continue;
        opts.onError?.("router backend failed", { port: r.port, error: (e as Error).message });
        return errorPage(502, "Bad Gateway", "The application did not answer.");
      }
      const out = new Headers(res.headers);
      for (const name of HOP_BY_HOP) out.delete(name);
      const length = Number(res.headers.get("content-length") ?? NaN);
      if (!res.body || req.method === "HEAD") {
        table.end(r);
        return new Response(null, { status: res.status, statusText: res.statusText, headers: out });
      }
      if (Number.isFinite(length) && length <= BUFFER_LIMIT) {
        try {
          const buf = await res.arrayBuffer();
          return new Response(buf, { status: res.status, statusText: res.statusText, headers: out });
        } catch {
          return errorPage(502, "Bad Gateway", "The application closed the connection mid-response.");
        } finally {
          table.end(r);
        }
      }
      return new Response(trackedBody(res.body, () => table.end(r)), { status: res.status, statusText: res.statusText, headers: out });
    }
  }

  async function upgradeWs(req: Request, serviceId: string, host: string, server: Server<WsData>): Promise<Response | undefined> {
    const url = new URL(req.url);
    const r = table.pick(serviceId);
    if (!r) return errorPage(503, "Service Unavailable", "No healthy replica of this application is running.");
    const headers: Record<string, string> = {};
    for (const name of ["cookie", "authorization", "origin", "user-agent"]) {
      const v = req.headers.get(name);
      if (v) headers[name] = v;
    }
    headers["x-forwarded-host"] = req.headers.get("host") ?? host;
    headers["x-forwarded-proto"] = "http";
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
      return errorPage(502, "Bad Gateway", "The application refused the WebSocket connection.");
    }
    const data: WsData = { replica: r, backend, pending: [] };
    // the backend may speak first: hold its messages until the client side is open
    backend.onmessage = (e) => (data.client ? data.client.send(e.data as string | ArrayBuffer) : data.pending.push(e.data as string | ArrayBuffer));
    backend.onclose = (e) => data.client?.close(safeCode(e.code), e.reason);
    const ok = server.upgrade(req, { data, headers: backend.protocol ? { "sec-websocket-protocol": backend.protocol } : undefined });
    if (!ok) {
      backend.close();
      table.end(r);
      return errorPage(400, "Bad Request", "WebSocket upgrade failed.");
    }
    return undefined;
  }

  const server = Bun.serve<WsData>({
    hostname: opts.hostname,
    port: opts.port,
    reusePort: false, // a second server on a busy --router port must fail, never share it
    idleTimeout: 120,
    async fetch(req, srv) {
      const host = cachedHost(req.headers.get("host"));
      const serviceId = host ? lookup(host) : undefined;
      if (!host || !serviceId) return errorPage(404, "Not Found", "No application is served at this hostname.");
      try {
        if ((req.headers.get("upgrade") ?? "").toLowerCase() === "websocket") return await upgradeWs(req, serviceId, host, srv);
        return await proxyHttp(req, serviceId, host, srv);
      } catch (e) {
        opts.onError?.("router request failed", { error: (e as Error).message });
        return errorPage(502, "Bad Gateway", "The application did not answer.");
      }
    },
    websocket: {
      open(ws: ServerWebSocket<WsData>) {
        const { backend } = ws.data;
        ws.data.client = ws;
        for (const m of ws.data.pending.splice(0)) ws.send(m);
        if (backend.readyState !== WebSocket.OPEN) ws.close(1011, "backend closed");
        backend.onerror = () => ws.close(1011, "backend error");
      },
      message(ws: ServerWebSocket<WsData>, message) {
        const { backend } = ws.data;
        if (backend.readyState === WebSocket.OPEN) backend.send(message);
      },
      close(ws: ServerWebSocket<WsData>, code, reason) {
        const { backend, replica } = ws.data;
        if (backend.readyState === WebSocket.OPEN || backend.readyState === WebSocket.CONNECTING) backend.close(safeCode(code), reason);
        table.end(replica);
      },
    },
    error(e) {
      opts.onError?.("router error", { error: e.message });
      return errorPage(502, "Bad Gateway", "The application did not answer.");
    },
  });
  const url = `http://${opts.hostname}:${server.port}`;
  return {
    port: server.port!,
    url,
    async stop() {
      await server.stop(false);
      pool.close();
    },
  };
}

const hostCache = new Map<string, string | null>();
/** normalizeHost with a small cache: the same few Host headers arrive over and over. */
function cachedHost(raw: string | null): string | null {
  if (raw === null) return null;
  let h = hostCache.get(raw);
  if (h === undefined) {
    h = normalizeHost(raw);
    if (hostCache.size > 1000) hostCache.clear();
    hostCache.set(raw, h);
  }
  return h;
}

/** Path and query of an absolute request URL, without allocating a URL object. */
function pathOf(url: string): string {
  const i = url.indexOf("/", url.indexOf("//") + 2);
  return i === -1 ? "/" : url.slice(i);
}

// 1005/1006/1015 are reserved: they may be reported, never sent
const safeCode = (code: number | undefined): number => (code && code >= 1000 && code < 5000 && ![1005, 1006, 1015].includes(code) ? code : 1000);
