// The usage sampler of `ancla serve`: every --sample-interval seconds, one reading per replica of
// every Docker service's serving deployment (the replica list the deployments keep, with the
// state and restart counts self-healing already follows from Docker events — no inspect per
// tick), stored as one integer row per replica; 5-minute rollups and deletion by age run in the
// background whenever a rollup bucket closes.
// Services on a cluster (kubernetes environments) are sampled per environment through its
// target: one pod listing (the replicas, with their states and restarts) and one usage read
// (metrics.k8s.io) per tick — a remote cluster at most as often as its reader allows. Each
// environment runs on its own, bounded by a timeout and never more than one read at a time, so a
// cluster that does not answer or serves no metrics never holds the Docker samples; why a cluster
// gives no numbers is kept per environment (`metricsGapOf`) for the observability route.
import type { Deps } from "../../deps";
import { targetFor, TargetUnavailable, UsageUnavailable, type DeployTarget, type FoundReplica, type TargetEnv, type UsageReader, type UsageReading } from "../../targets/target";
import { findEnvById } from "../envs/repo";
import { slotKey, slotsOf } from "../deployments/replicas";
import * as deployments from "../deployments/repo";
import * as repo from "./repo";

export const RAW_KEEP_SECONDS = 24 * 3600;
export const ROLLUP_KEEP_SECONDS = 30 * 86400;

export type Labels = { org: string; project: string; env: string; service: string; process: string };
export type ReplicaTarget = { serviceId: string; process: string; replica: number; containerId: string; restarts: number; generation: number; state: string; labels: Labels; /** a cluster environment's id (its replicas are pods); null on Docker */ clusterEnvId?: string | null; /** a pod's own word on whether it runs (metrics or not) */ podRunning?: boolean };
/** What the last tick saw of one replica: /metrics gauges and the current states in the route. */
export type LatestUsage = ReplicaTarget & { at: string; cpuMillicores: number | null; memoryBytes: number | null; running: boolean; source: UsageReading["source"] | null };

export type Sampler = { sampleOnce: () => Promise<LatestUsage[]>; stop: () => Promise<void> };

// states in which there is no container process to read (self-healing saw it die or vanish)
const NOT_RUNNING = new Set(["exited", "missing"]);

/** Every replica of every Docker service's serving deployment, with its labels. */
export function replicasToSample(deps: Deps): ReplicaTarget[] {
  const slots = slotsOf(deps);
  const out: ReplicaTarget[] = [];
  for (const s of deployments.routableServices(deps.db)) {
    if (s.target !== "docker") continue;
    for (const r of deployments.currentDeployment(deps.db, s.id)?.metadata.replicas ?? []) {
      const slot = slots.get(slotKey(s.id, r.process, r.replica));
      const seen = slot && slot.containerId === r.id ? slot : undefined;
      out.push({
        serviceId: s.id,
        process: r.process,
        replica: r.replica,
        containerId: r.id,
        restarts: (r.restarts ?? 0) + (seen?.dockerRestarts ?? 0),
        generation: seen?.dockerRestarts ?? 0,
        state: seen?.state ?? "unknown",
        labels: { org: s.org, project: s.project, env: s.env, service: s.service, process: r.process },
      });
    }
  }
  return out;
}

/** Why a cluster environment gives no CPU/memory numbers now (null once it does again). */
export type MetricsGap = {
  reason: "metrics_server_missing" | "cluster_unreachable" | "metrics_error" | "target_unavailable";
  message: string;
  /** ISO time since when */
  since: string;
};
const gapStores = new WeakMap<object, Map<string, MetricsGap>>();
export function metricsGapOf(deps: { db: object }): Map<string, MetricsGap> {
  let m = gapStores.get(deps.db);
  if (!m) gapStores.set(deps.db, (m = new Map()));
  return m;
}

/** A usage read or pod listing of a cluster gives up after this long. */
export const CLUSTER_READ_TIMEOUT_MS = 10_000;

const MESSAGE_MAX = 300;
const short = (e: unknown) => {
  const m = (e instanceof Error ? e.message : String(e)).replace(/\s+/g, " ").trim();
  return m.length > MESSAGE_MAX ? `${m.slice(0, MESSAGE_MAX - 1)}…` : m;
};

function withTimeout<T>(p: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Error(`${what} did not answer within ${Math.round(ms / 1000)} s`)), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/** A pod's state in the words the Docker replicas use. */
function podStateName(f: FoundReplica): string {
  const s = f.state;
  if (!s) return f.running ? "running" : "unknown";
  if (s.restarting) return "restarting";
  if (s.running) return s.health === "healthy" || s.health === null ? "running" : "starting";
  return s.status === "exited" ? "exited" : s.status === "removing" ? "removing" : "starting";
}

/** The pods of the given services as replicas, numbered per service and process by pod name (as findReplicas({serviceId}) does). */
export function podTargets(pods: FoundReplica[], services: Map<string, Labels & { envId: string }>): ReplicaTarget[] {
  const mine = pods.filter((p) => p.serviceId && services.has(p.serviceId) && p.state?.status !== "removing").sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  const seen = new Map<string, number>();
  return mine.map((p) => {
    const labels = services.get(p.serviceId!)!;
    const process = p.process ?? "app";
    const k = `${p.serviceId}\u0000${process}`;
    const n = (seen.get(k) ?? 0) + 1;
    seen.set(k, n);
    const restarts = p.state?.restartCount ?? 0;
    return {
      serviceId: p.serviceId!,
      process,
      replica: n,
      containerId: p.id,
      restarts,
      generation: restarts,
      state: podStateName(p),
      labels: { org: labels.org, project: labels.project, env: labels.env, service: labels.service, process },
      clusterEnvId: labels.envId,
      podRunning: p.running,
    };
  });
}

type Cluster = { key: string; target: DeployTarget; reader: UsageReader; lastStart: number; inFlight: Promise<void> | null };

// one store per server (per database), like the replica slots
const latestStores = new WeakMap<object, Map<string, LatestUsage>>();
export function latestOf(deps: { db: object }): Map<string, LatestUsage> {
  let m = latestStores.get(deps.db);
  if (!m) latestStores.set(deps.db, (m = new Map()));
  return m;
}

type Previous = { cpuUsec: number; rx: number | null; tx: number | null; atMs: number };

/** `reader` is injectable for tests; intervalMs 0 means no timer (ticks only through sampleOnce). */
export function startSampler(deps: Deps, opts: { reader?: UsageReader; intervalMs?: number } = {}): Sampler {
  const reader = opts.reader ?? deps.targets.local.usageReader();
  const intervalMs = opts.intervalMs ?? deps.config.sampleInterval * 1000;
  const previous = new Map<string, Previous>();
  const seriesIds = new Map<string, number>();
  let rolledUntil: number | null = null;
  let current: Promise<unknown> = Promise.resolve();

  const seriesOf = (t: ReplicaTarget) => {
    const key = slotKey(t.serviceId, t.process, t.replica);
    let id = seriesIds.get(key);
    if (id === undefined) seriesIds.set(key, (id = repo.seriesId(deps.sqlite, t.serviceId, t.process, t.replica)));
    return id;
  };

  const housekeeping = (nowS: number) => {
    const bucket = Math.floor(nowS / repo.ROLLUP_SECONDS) * repo.ROLLUP_SECONDS;
    // from the newest rollup (redone: idempotent) or from what raw retention still holds
    rolledUntil ??= repo.lastRollup(deps.sqlite) ?? nowS - RAW_KEEP_SECONDS;
    if (bucket <= rolledUntil) return;
    repo.rollUp(deps.sqlite, rolledUntil, bucket);
    rolledUntil = bucket;
    repo.prune(deps.sqlite, nowS - RAW_KEEP_SECONDS, nowS - ROLLUP_KEEP_SECONDS);
    seriesIds.clear(); // pruned series get new ids when they come back
  };

  type Prevs = Map<string, Previous>;
  /** Rows and latest states of one batch of replicas from their readings (CPU from the delta to the previous reading). */
  const record = (targets: ReplicaTarget[], readings: Map<string, UsageReading>, prevs: Prevs, nowDate: Date) => {
    const ts = Math.floor(nowDate.getTime() / 1000);
    const rows: repo.SampleRow[] = [];
    const latest: LatestUsage[] = [];
    for (const t of targets) {
      const r = readings.get(t.containerId);
      const prev = prevs.get(t.containerId);
      // counters restart with the container: a negative delta is a restart, not usage
      const delta = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || a < b ? null : a - b);
      const cpuDelta = r && prev ? delta(r.cpuUsec, prev.cpuUsec) : null;
      // elapsed from the readings' own monotonic times (real, whatever deps.clock says): µs per ms = millicores
      const cpu = cpuDelta === null || !prev ? null : Math.round(cpuDelta / Math.max(1, r!.atMs - prev.atMs));
      if (r) prevs.set(t.containerId, { cpuUsec: r.cpuUsec, rx: r.rxBytes, tx: r.txBytes, atMs: r.atMs });
      // a pod runs whether or not the cluster serves its usage; a container is running when it was read
      const running = t.podRunning ?? r !== undefined;
      rows.push({ seriesId: seriesOf(t), ts, cpu, mem: r?.memoryBytes ?? null, rx: r && prev ? delta(r.rxBytes, prev.rx) : null, tx: r && prev ? delta(r.txBytes, prev.tx) : null, restarts: t.restarts, running: running ? 1 : 0 });
      latest.push({ ...t, at: nowDate.toISOString(), cpuMillicores: cpu, memoryBytes: r?.memoryBytes ?? null, running, source: r?.source ?? null });
    }
    const ids = new Set(targets.map((t) => t.containerId));
    for (const id of prevs.keys()) if (!ids.has(id)) prevs.delete(id);
    if (rows.length) repo.insertSamples(deps.sqlite, rows);
    return { latest, ids, ts };
  };

  /** Replace the latest states of one part (Docker: clusterEnvId null; or one cluster environment). */
  const publish = (envId: string | null, latest: LatestUsage[]) => {
    const store = latestOf(deps);
    for (const [k, l] of store) if ((l.clusterEnvId ?? null) === envId) store.delete(k);
    for (const l of latest) store.set(slotKey(l.serviceId, l.process, l.replica), l);
  };

  const dockerPrevious: Prevs = previous;
  const tick = async (): Promise<LatestUsage[]> => {
    const targets = replicasToSample(deps);
    const readable = targets.filter((t) => !NOT_RUNNING.has(t.state));
    const readings = await reader.read(readable.map((t) => ({ id: t.containerId, generation: t.generation })));
    const { latest, ids, ts } = record(targets, readings, dockerPrevious, deps.clock.now());
    reader.retain(ids);
    publish(null, latest);
    housekeeping(ts);
    return latest;
  };

  // --- cluster environments: each on its own, one read in flight at most
  const clusters = new Map<string, Cluster>();
  const clusterPrevious = new Map<string, Prevs>();
  const gaps = metricsGapOf(deps);
  const setGap = (envId: string, reason: MetricsGap["reason"], message: string) => {
    const was = gaps.get(envId);
    if (was?.reason === reason && was.message === message) return;
    if (was?.reason !== reason) deps.logger.info("cluster metrics unavailable", { env: envId, reason, message });
    gaps.set(envId, { reason, message, since: was?.reason === reason ? was.since : deps.clock.now().toISOString() });
  };

  /** Kubernetes environments with services, and those services' labels. */
  const clusterEnvs = () => {
    const out = new Map<string, Map<string, Labels & { envId: string }>>();
    for (const s of deployments.routableServices(deps.db)) {
      if (s.target === "docker") continue;
      let m = out.get(s.envId);
      if (!m) out.set(s.envId, (m = new Map()));
      m.set(s.id, { org: s.org, project: s.project, env: s.env, service: s.service, process: "", envId: s.envId });
    }
    // environments gone (or back on Docker): forget them
    for (const id of [...clusters.keys(), ...gaps.keys()]) {
      if (out.has(id)) continue;
      clusters.delete(id);
      clusterPrevious.delete(id);
      gaps.delete(id);
      publish(id, []);
    }
    return out;
  };

  const clusterOf = (envId: string): Cluster | null => {
    const env = findEnvById(deps.db, envId);
    if (!env) return null;
    const te: TargetEnv = env;
    // the sealed settings identify the connection: a changed kubeconfig gets a new target
    const key = JSON.stringify([te.target, te.kubeconfig, te.kubeContext, te.namespace, te.registryUrl]);
    const had = clusters.get(envId);
    if (had && had.key === key) return had;
    try {
      const target = targetFor(deps, te);
      const c: Cluster = { key, target, reader: target.usageReader(), lastStart: -Infinity, inFlight: had?.inFlight ?? null };
      clusters.set(envId, c);
      clusterPrevious.set(envId, new Map());
      return c;
    } catch (e) {
      clusters.delete(envId);
      setGap(envId, e instanceof TargetUnavailable ? "target_unavailable" : "cluster_unreachable", short(e));
      publish(envId, []);
      return null;
    }
  };

  const readCluster = async (envId: string, services: Map<string, Labels & { envId: string }>, c: Cluster) => {
    let pods: FoundReplica[];
    try {
      pods = await withTimeout(c.target.findReplicas(), CLUSTER_READ_TIMEOUT_MS, "the cluster's API server");
    } catch (e) {
      // nothing known of its pods: no rows, no current states (stale gauges would lie)
      setGap(envId, "cluster_unreachable", `cannot list the pods: ${short(e)}`);
      publish(envId, []);
      return;
    }
    const targets = podTargets(pods, services);
    const running = targets.filter((t) => t.podRunning);
    let readings = new Map<string, UsageReading>();
    let ok = true;
    if (running.length) {
      try {
        readings = await withTimeout(c.reader.read(running.map((t) => ({ id: t.containerId, generation: t.generation }))), CLUSTER_READ_TIMEOUT_MS, "the cluster's metrics API");
      } catch (e) {
        ok = false;
        if (e instanceof UsageUnavailable) setGap(envId, "metrics_server_missing", short(e));
        else setGap(envId, "metrics_error", `cannot read usage: ${short(e)}`);
      }
    }
    if (ok) gaps.delete(envId);
    const prevs = clusterPrevious.get(envId) ?? new Map();
    clusterPrevious.set(envId, prevs);
    const { latest, ids } = record(targets, readings, prevs, deps.clock.now());
    c.reader.retain(ids);
    publish(envId, latest);
  };

  /** Start the due cluster reads (`force`: every environment, waiting for a read still in flight). */
  const sampleClusters = async (force: boolean): Promise<void> => {
    const work: Promise<void>[] = [];
    for (const [envId, services] of clusterEnvs()) {
      const c = clusterOf(envId);
      if (!c) continue;
      const since = performance.now() - c.lastStart;
      if (!force && (c.inFlight || since < Math.max(0, (c.reader.minIntervalMs ?? 0) - intervalMs / 2))) continue;
      const run = (async () => {
        if (c.inFlight) await c.inFlight;
        c.lastStart = performance.now();
        await readCluster(envId, services, c);
      })()
        .catch((e) => deps.logger.warn("cluster usage sample failed", { env: envId, error: short(e) }))
        .finally(() => {
          if (c.inFlight === run) c.inFlight = null;
        });
      c.inFlight = run;
      work.push(run);
    }
    await Promise.all(work);
  };

  // ticks never overlap (a test's sampleOnce beside the timer waits its turn)
  const dockerOnce = () => {
    const run = current.then(tick, tick);
    current = run.catch(() => undefined);
    return run;
  };
  /** One tick of everything, waiting for every cluster's read (tests, and the CLI's first sample). */
  const sampleOnce = async () => {
    const [docker] = await Promise.all([dockerOnce(), sampleClusters(true)]);
    return [...docker, ...[...latestOf(deps).values()].filter((l) => l.clusterEnvId)];
  };
  let stopped = false;
  let busy = false;
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          if (stopped) return;
          // clusters on their own: a slow or silent one never delays the Docker samples
          void sampleClusters(false).catch((e) => deps.logger.warn("cluster usage sampling failed", { error: short(e) }));
          if (busy) return; // a tick slower than the interval skips the next one
          busy = true;
          dockerOnce()
            .catch((e) => deps.logger.warn("usage sampler tick failed", { error: (e as Error).message }))
            .finally(() => (busy = false));
        }, intervalMs)
      : null;
  timer?.unref?.();
  return {
    sampleOnce,
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      await current;
      // a cluster read in flight finishes (bounded by its timeout) before the database closes
      await Promise.all([...clusters.values()].map((c) => c.inFlight));
    },
  };
}
