// The usage sampler of `ancla serve`: every --sample-interval seconds, one reading per replica of
// every Docker service's serving deployment (the replica list the deployments keep, with the
// state and restart counts self-healing already follows from Docker events — no inspect per
// tick), stored as one integer row per replica; 5-minute rollups and deletion by age run in the
// background whenever a rollup bucket closes.
import type { Deps } from "../../deps";
import type { UsageReader, UsageReading } from "../../targets/target";
import { slotKey, slotsOf } from "../deployments/replicas";
import * as deployments from "../deployments/repo";
import * as repo from "./repo";

export const RAW_KEEP_SECONDS = 24 * 3600;
export const ROLLUP_KEEP_SECONDS = 30 * 86400;

export type Labels = { org: string; project: string; env: string; service: string; process: string };
export type ReplicaTarget = { serviceId: string; process: string; replica: number; containerId: string; restarts: number; generation: number; state: string; labels: Labels };
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

  const tick = async (): Promise<LatestUsage[]> => {
    const targets = replicasToSample(deps);
    const readable = targets.filter((t) => !NOT_RUNNING.has(t.state));
    const readings = await reader.read(readable.map((t) => ({ id: t.containerId, generation: t.generation })));
    const now = deps.clock.now();
    const ts = Math.floor(now.getTime() / 1000);
    const rows: repo.SampleRow[] = [];
    const latest: LatestUsage[] = [];
    for (const t of targets) {
      const r = readings.get(t.containerId);
      const prev = previous.get(t.containerId);
      // counters restart with the container: a negative delta is a restart, not usage
      const delta = (a: number | null | undefined, b: number | null | undefined) => (a == null || b == null || a < b ? null : a - b);
      const cpuDelta = r && prev ? delta(r.cpuUsec, prev.cpuUsec) : null;
      // elapsed from the readings' own monotonic times (real, whatever deps.clock says): µs per ms = millicores
      const cpu = cpuDelta === null || !prev ? null : Math.round(cpuDelta / Math.max(1, r!.atMs - prev.atMs));
      if (r) previous.set(t.containerId, { cpuUsec: r.cpuUsec, rx: r.rxBytes, tx: r.txBytes, atMs: r.atMs });
      const running = r !== undefined;
      rows.push({ seriesId: seriesOf(t), ts, cpu, mem: r?.memoryBytes ?? null, rx: r && prev ? delta(r.rxBytes, prev.rx) : null, tx: r && prev ? delta(r.txBytes, prev.tx) : null, restarts: t.restarts, running: running ? 1 : 0 });
      latest.push({ ...t, at: now.toISOString(), cpuMillicores: cpu, memoryBytes: r?.memoryBytes ?? null, running, source: r?.source ?? null });
    }
    const ids = new Set(targets.map((t) => t.containerId));
    for (const id of previous.keys()) if (!ids.has(id)) previous.delete(id);
    reader.retain(ids);
    if (rows.length) repo.insertSamples(deps.sqlite, rows);
    const store = latestOf(deps);
    store.clear();
    for (const l of latest) store.set(slotKey(l.serviceId, l.process, l.replica), l);
    housekeeping(ts);
    return latest;
  };

  // ticks never overlap (a test's sampleOnce beside the timer waits its turn)
  const sampleOnce = () => {
    const run = current.then(tick, tick);
    current = run.catch(() => undefined);
    return run;
  };
  let stopped = false;
  let busy = false;
  const timer =
    intervalMs > 0
      ? setInterval(() => {
          if (stopped || busy) return; // a tick slower than the interval skips the next one
          busy = true;
          sampleOnce()
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
    },
  };
}
