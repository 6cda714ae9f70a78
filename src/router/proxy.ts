// The app router: an HTTP reverse proxy on --router (and HTTPS on --https). Host header → service
// → one of its healthy web replicas on 127.0.0.1 (round robin), forwarded with Bun's own fetch
// (library HTTP only: a hand-written client had protocol defects for ~5% more throughput);
// WebSocket upgrades are bridged. 404 unknown host, 503 nothing running, 502 backend failed, 504
// backend too slow, 429 a client holding too many requests. ACME HTTP-01 challenges are answered
// here for any host, before routing.
import type { Server } from "bun";
import { normalizeHost } from "./hosts";
import { forwardHttp } from "./forward";
import { startHttpsListener, type HttpsListener, type TlsCertificate } from "./https";
import { ClientLimiter, DEFAULT_MAX_PER_CLIENT } from "./limits";
import { startFdValve } from "./fd-pressure";
import { probeFreePort } from "../lib/listeners";
import { pathAndQuery, pathStart } from "../lib/url-path";
import { badGatewayPage, errorPage, notFoundPage } from "./pages";
import { WS_GOING_AWAY, type OpenSocket, type RouteTable } from "./table";
import { rateLimitedWarn, type Warn } from "./warn";
import { bridgeHandlers, isWebSocketUpgrade, upgradeWebSocket, type WsData } from "./websocket";

export { errorPage } from "./pages";
export type { TlsCertificate } from "./https";

/** What the certificate side gives the router: challenge answers and which hosts have a certificate. */
export type AcmeHooks = {
  /** The key authorization for an HTTP-01 token, if one is pending. */
  challenge: (token: string) => string | undefined;
  hasCertificate: (host: string) => boolean;
  /** A request arrived for a routed host without a certificate (on-demand issuance; rate limited there). */
  wanted?: (host: string) => void;
};

export type RouterOptions = {
  hostname: string;
  port: number;
  table: RouteTable;
  /** Reload the hostname map (throttled by the router); called when a host is not known. */
  refreshHosts?: () => void;
  /** Receives warnings, at most one line per identical warning per `warnWindowMs` (with a suppressed count). */
  onError?: Warn;
  warnWindowMs?: number;
  /** Requests in flight + WebSockets one client address may hold (default 256); beyond: 429. */
  maxPerClient?: number;
  /** Largest request body passed to an app (bytes; default 1 GiB); bodies stream, this only bounds them. */
  maxRequestBodySize?: number;
  /** HTTPS listener; `certificates[0]` (no serverName) is served to unknown names. */
  https?: { hostname: string; port: number; certificates: TlsCertificate[] };
  acme?: AcmeHooks;
  /** Told about every proxied request once the app's response headers are in (metrics live outside the router). */
  onResponse?: (serviceId: string, status: number, seconds: number) => void;
  /** A reload's new process: the previous one holds the ports (SO_REUSEPORT) on purpose, so no probe. */
  takeOver?: boolean;
  /** Open descriptors past which idle keep-alive connections are closed (default 80% of the soft RLIMIT_NOFILE). */
  maxOpenFiles?: number;
};

export type RunningRouter = {
  port: number;
  url: string;
  httpsPort?: number;
  /** Serve a new certificate set on the HTTPS port without dropping connections. */
  setCertificates: (certs: TlsCertificate[]) => Promise<void>;
  /** A reload's successor takes new connections: every response from here on closes its connection. */
  drain: () => void;
  stop: () => Promise<void>;
};

const REFRESH_MS = 1000;
const CHALLENGE_PREFIX = "/.well-known/acme-challenge/";
export const DEFAULT_MAX_BODY = 1024 * 1024 * 1024;
/** Keep-alive connections idle this long are closed (headers must arrive within ~10 s regardless: Bun's own limit). */
const IDLE_TIMEOUT_S = 75;
const HSTS = "max-age=31536000";
// requests still running at stop get this long before their connections are cut
const STOP_GRACE_MS = 10_000;

export function startRouter(opts: RouterOptions): RunningRouter {
  const { table } = opts;
  const warn = rateLimitedWarn(opts.onError, opts.warnWindowMs);
  const clients = new ClientLimiter(opts.maxPerClient ?? DEFAULT_MAX_PER_CLIENT);
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
  let https: HttpsListener | undefined;
  const sockets = new Set<OpenSocket>();
  const websocket = bridgeHandlers(table, sockets);
  let draining = false;

  const handle = async (req: Request, srv: Server<WsData>, proto: "http" | "https"): Promise<Response | undefined> => {
    const acme = opts.acme;
    if (acme && proto === "http" && req.url.includes(CHALLENGE_PREFIX)) {
      const answer = challengeAnswer(acme, req.url);
      if (answer !== null) return answer;
    }
    const host = cachedHost(req.headers.get("host"));
    const serviceId = host ? lookup(host) : undefined;
    if (!host || !serviceId) return notFoundPage();
    if (acme && https) {
      if (!acme.hasCertificate(host)) acme.wanted?.(host);
      else if (proto === "http" && table.httpsPolicy(serviceId).redirect) return redirectToHttps(req, host, https.port);
    }
    const clientIp = srv.requestIP(req)?.address;
    const release = clients.acquire(clientIp);
    if (!release) return errorPage(429, "Too Many Requests", "This client has too many requests and WebSockets open at once.");
    const ctx = { table, serviceId, host, clientIp, proto, release };
    const t0 = performance.now();
    const seen = (status: number) => opts.onResponse?.(serviceId, status, (performance.now() - t0) / 1000);
    try {
      if (isWebSocketUpgrade(req)) {
        const upgraded = await upgradeWebSocket(ctx, req, srv);
        seen(upgraded?.status ?? 101);
        return upgraded;
      }
      const res = await forwardHttp({ table, warn }, req, ctx);
      if (proto === "https" && table.httpsPolicy(serviceId).hsts) res.headers.set("strict-transport-security", HSTS);
      seen(res.status);
      return res;
    } catch (e) {
      release();
      warn("router request failed", { service: serviceId, error: (e as Error).message });
      seen(502);
      return badGatewayPage();
    }
  };

  const serveOptions = (proto: "http" | "https") => ({
    idleTimeout: IDLE_TIMEOUT_S,
    maxRequestBodySize: opts.maxRequestBodySize ?? DEFAULT_MAX_BODY,
    // while draining, keep-alive clients are told to reconnect (to the successor) instead of racing this one's close
    fetch: (req: Request, srv: Server<WsData>) => (draining ? handle(req, srv, proto).then(closeAfter) : handle(req, srv, proto)),
    websocket,
    error(e: Error) {
      warn("router error", { error: e.message });
      return badGatewayPage();
    },
  });

  // SO_REUSEPORT so a reload's successor can bind the port before this one lets go; the probe
  // (no reuse) first keeps a second server on a busy --router port an error, never a share
  const server = Bun.serve<WsData>({
    hostname: opts.hostname,
    port: opts.takeOver ? opts.port : probeFreePort(opts.hostname, opts.port),
    reusePort: true,
    ...serveOptions("http"),
  });
  if (opts.https) {
    try {
      https = startHttpsListener({ ...opts.https, takeOver: opts.takeOver }, serveOptions("https"));
    } catch (e) {
      server.stop(true);
      throw e;
    }
  }
  // idle keep-alive connections cannot be counted per client: bound them by the descriptors left
  const stopValve = startFdValve({
    max: opts.maxOpenFiles,
    closeIdle: () => server.closeIdleConnections() + (https?.closeIdle() ?? 0),
    onClosed: (fields) => warn("router closed idle keep-alive connections: open files near the limit", fields),
  });
  return {
    port: server.port!,
    url: `http://${opts.hostname}:${server.port}`,
    httpsPort: https?.port,
    async setCertificates(certs) {
      if (https) await https.reload(certs);
    },
    drain() {
      draining = true;
    },
    async stop() {
      stopValve();
      // WebSockets would hold a graceful stop open for hours: they end now, as "going away"
      for (const s of [...sockets]) s.close(WS_GOING_AWAY, "server shutting down");
      const stopped = Promise.all([server.stop(false), https?.stop()]);
      if (!(await Promise.race([stopped.then(() => true), Bun.sleep(STOP_GRACE_MS).then(() => false)]))) await Promise.all([server.stop(true), https?.stop(true)]);
    },
  };
}

function closeAfter(res: Response | undefined): Response | undefined {
  if (res && res.status !== 101) res.headers.set("connection", "close");
  return res;
}

/** 200 with the key authorization for a pending token; 404 for others; null when not a challenge path. */
function challengeAnswer(acme: AcmeHooks, url: string): Response | null {
  const i = pathStart(url);
  if (i === -1 || !url.startsWith(CHALLENGE_PREFIX, i)) return null;
  const token = url.slice(i + CHALLENGE_PREFIX.length).split(/[?#]/)[0]!;
  const answer = /^[A-Za-z0-9_-]{1,256}$/.test(token) ? acme.challenge(token) : undefined;
  if (answer === undefined) return new Response("no such challenge\n", { status: 404, headers: { "content-type": "text/plain" } });
  return new Response(answer, { headers: { "content-type": "text/plain", "cache-control": "no-store" } });
}

/** 308 keeps the method and body for non-GET requests (301 would turn a POST into a GET in some clients). */
function redirectToHttps(req: Request, host: string, port: number): Response {
  const path = pathAndQuery(req.url);
  const authority = port === 443 ? host : `${host}:${port}`;
  return new Response(null, { status: 308, headers: { location: `https://${authority}${path}`, "cache-control": "no-store" } });
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
