// The routing table: hostname → service, service → its serving web replicas (round robin),
// passive health (a replica that refused a connection sits out a while), in-flight counts and
// open WebSockets per replica so a deploy can drain old replicas before removing them, and the
// per-service policies (upstream timeout, HTTPS redirect, HSTS).

export type Backend = { id: string; port: number };

/** An open bridged WebSocket, closed by the router when its replica is retired. */
export type OpenSocket = { close: (code: number, reason: string) => void };

export type Replica = Backend & {
  /** Requests sent to this replica whose response body has not been fully read yet. */
  inflight: number;
  /** Epoch ms until which the replica is skipped after a connection failure. */
  downUntil: number;
  /** WebSockets bridged to this replica (not counted in `inflight`: they may live for hours). */
  sockets: Set<OpenSocket>;
};

/** What a service asks of the HTTPS side: redirect plain HTTP (when a certificate exists), send HSTS. */
export type HttpsPolicy = { redirect: boolean; hsts: boolean };
export const DEFAULT_HTTPS_POLICY: HttpsPolicy = { redirect: true, hsts: false };

type Pool = { replicas: Replica[]; next: number };

export const DOWN_MS = 3000;
/** How long open WebSockets of a retired replica may stay before they are closed with 1001. */
export const DEFAULT_WS_DRAIN_MS = 10_000;
/** RFC 6455 1001 "going away": the endpoint (here: the replica) is leaving. */
export const WS_GOING_AWAY = 1001;
/** How long a replica may take to answer (headers, then each body read) when its service sets nothing. */
export const DEFAULT_UPSTREAM_TIMEOUT_MS = 60_000;

export class RouteTable {
  private hosts = new Map<string, string>();
  private pools = new Map<string, Pool>();
  private idle: (() => void)[] = [];
  private timeouts = new Map<string, number>();
  private https = new Map<string, HttpsPolicy>();
  /** Open WebSockets of a retired replica are closed (1001) this long after its drain began. */
  wsDrainMs = DEFAULT_WS_DRAIN_MS;

  /** Replace the whole hostname map at once. */
  setHosts(map: Map<string, string>): void {
    this.hosts = map;
  }

  /** Replace the per-service upstream timeouts (ms) at once; services left out use the default. */
  setUpstreamTimeouts(map: Map<string, number>): void {
    this.timeouts = map;
  }

  upstreamTimeoutMs(serviceId: string): number {
    return this.timeouts.get(serviceId) ?? DEFAULT_UPSTREAM_TIMEOUT_MS;
  }

  /** Replace the per-service HTTPS policies at once; services left out get no redirect and no HSTS. */
  setHttpsPolicies(map: Map<string, HttpsPolicy>): void {
    this.https = map;
  }

  /** A service not known yet (created since the last refresh) gets the defaults: redirect, no HSTS. */
  httpsPolicy(serviceId: string): HttpsPolicy {
    return this.https.get(serviceId) ?? DEFAULT_HTTPS_POLICY;
  }

  serviceFor(host: string): string | undefined {
    return this.hosts.get(host);
  }

  hostnames(): string[] {
    return [...this.hosts.keys()];
  }

  hostCount(): number {
    return this.hosts.size;
  }

  /**
   * Atomically replace the serving replicas of a service; returns the replicas no longer serving
   * (still counted while their in-flight requests finish). Replicas kept keep their counters.
   */
  setReplicas(serviceId: string, backends: Backend[]): Replica[] {
    const old = this.pools.get(serviceId)?.replicas ?? [];
    const byId = new Map(old.map((r) => [r.id, r]));
    const replicas = backends.map((b) => {
      const kept = byId.get(b.id);
      if (kept && kept.port === b.port) return kept;
      return { ...b, inflight: 0, downUntil: 0, sockets: new Set<OpenSocket>() };
    });
    const keptIds = new Set(replicas.map((r) => r.id));
    if (replicas.length) this.pools.set(serviceId, { replicas, next: 0 });
    else this.pools.delete(serviceId);
    return old.filter((r) => !keptIds.has(r.id));
  }

  replicasOf(serviceId: string): Replica[] {
    return this.pools.get(serviceId)?.replicas ?? [];
  }

  services(): string[] {
    return [...this.pools.keys()];
  }

  /** Next healthy replica in round-robin order, skipping `exclude`; null when none is left. */
  pick(serviceId: string, exclude?: Set<string>, now = Date.now()): Replica | null {
    const pool = this.pools.get(serviceId);
    if (!pool) return null;
    const n = pool.replicas.length;
    for (let i = 0; i < n; i++) {
      const r = pool.replicas[(pool.next + i) % n]!;
      if (r.downUntil > now || exclude?.has(r.id)) continue;
      pool.next = (pool.next + i + 1) % n;
      return r;
    }
    return null;
  }

  attachSocket(r: Replica, s: OpenSocket): void {
    r.sockets.add(s);
  }

  detachSocket(r: Replica, s: OpenSocket): void {
    r.sockets.delete(s);
  }

  markDown(r: Replica, now = Date.now()): void {
    r.downUntil = now + DOWN_MS;
  }

  begin(r: Replica): void {
    r.inflight++;
  }

  end(r: Replica): void {
    r.inflight = Math.max(0, r.inflight - 1);
    if (r.inflight === 0 && this.idle.length) {
      const waiters = this.idle;
      this.idle = [];
      for (const w of waiters) w();
    }
  }

  /**
   * Resolves once none of `replicas` has a request in flight, or after maxMs (false). Meanwhile
   * their WebSockets get until `wsDrainMs` to end by themselves; then they are closed with 1001.
   */
  async drain(replicas: Replica[], maxMs: number): Promise<boolean> {
    const [http] = await Promise.all([this.drainHttp(replicas, maxMs), this.drainSockets(replicas, Math.min(maxMs, this.wsDrainMs))]);
    return http;
  }

  private async drainSockets(replicas: Replica[], maxMs: number): Promise<void> {
    const deadline = Date.now() + maxMs;
    while (replicas.some((r) => r.sockets.size > 0) && Date.now() < deadline) await Bun.sleep(Math.min(100, Math.max(1, deadline - Date.now())));
    for (const r of replicas) for (const s of [...r.sockets]) s.close(WS_GOING_AWAY, "replica retired by a deploy");
  }

  private async drainHttp(replicas: Replica[], maxMs: number): Promise<boolean> {
    const deadline = Date.now() + maxMs;
    while (replicas.some((r) => r.inflight > 0)) {
      const left = deadline - Date.now();
      if (left <= 0) return false;
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, Math.min(left, 250));
        this.idle.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    return true;
  }
}

// One table per server (per database), like the job queue's wakers: no imported singleton state.
const tables = new WeakMap<object, RouteTable>();
export function routeTableOf(deps: { db: object }): RouteTable {
  let t = tables.get(deps.db);
  if (!t) tables.set(deps.db, (t = new RouteTable()));
  return t;
}
