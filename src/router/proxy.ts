// The app router: an HTTP reverse proxy on --router. Host header → service → one of its healthy
// web replicas on 127.0.0.1 (round robin), forwarded with Bun's own fetch (library HTTP only:
// a hand-written client had protocol defects for ~5% more throughput); WebSocket upgrades are
// bridged. 404 unknown host, 503 nothing running, 502 backend failed, 504 backend too slow.
import { normalizeHost } from "./hosts";
import { forwardHttp } from "./forward";
import { badGatewayPage, notFoundPage } from "./pages";
import type { RouteTable } from "./table";
import { rateLimitedWarn, type Warn } from "./warn";
import { bridgeHandlers, isWebSocketUpgrade, upgradeWebSocket, type WsData } from "./websocket";

export { errorPage } from "./pages";

export type RouterOptions = {
  hostname: string;
  port: number;
  table: RouteTable;
  /** Reload the hostname map (throttled by the router); called when a host is not known. */
  refreshHosts?: () => void;
  /** Receives warnings, at most one line per identical warning per `warnWindowMs` (with a suppressed count). */
  onError?: Warn;
  warnWindowMs?: number;
};

export type RunningRouter = { port: number; url: string; stop: () => Promise<void> };

const REFRESH_MS = 1000;

export function startRouter(opts: RouterOptions): RunningRouter {
  const { table } = opts;
  const warn = rateLimitedWarn(opts.onError, opts.warnWindowMs);
  let lastRefresh = 0;
  const lookup = (host: string): string | undefined => {
    let id = table.serviceFor(host);
    if (!id && opts.refreshHosts && Date.now() - lastRefresh > REFRESH_MS) {
      lastRefresh = Date.now();
      try {
        opts.refreshHosts();
      } catch (e) {
        warn("router host refresh failed", { error: (e as Error).message });
      }
      id = table.serviceFor(host);
    }
    return id;
  };

  const server = Bun.serve<WsData>({
    hostname: opts.hostname,
    port: opts.port,
    reusePort: false, // a second server on a busy --router port must fail, never share it
    idleTimeout: 120,
    async fetch(req, srv) {
      const host = cachedHost(req.headers.get("host"));
      const serviceId = host ? lookup(host) : undefined;
      if (!host || !serviceId) return notFoundPage();
      try {
        if (isWebSocketUpgrade(req)) return await upgradeWebSocket(table, req, serviceId, host, srv);
        return await forwardHttp({ table, warn }, req, serviceId, host, srv.requestIP(req)?.address);
      } catch (e) {
        warn("router request failed", { service: serviceId, error: (e as Error).message });
        return badGatewayPage();
      }
    },
    websocket: bridgeHandlers(table),
    error(e) {
      warn("router error", { error: e.message });
      return badGatewayPage();
    },
  });
  return {
    port: server.port!,
    url: `http://${opts.hostname}:${server.port}`,
    async stop() {
      await server.stop(false);
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
