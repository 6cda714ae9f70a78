// Series for one service over a range: at most POINTS buckets, each the average per sampler tick
// of the service total (sum over its replicas), so a scale from 1 to 3 replicas triples the line
// instead of averaging it away. Ranges up to 24 h read raw samples, longer ones the 5-minute rollups.
import type { Deps } from "../../deps";
import { POINTS, RANGES, type ObservabilityResponse, type RangeName } from "./model";
import * as repo from "./repo";
import { findServiceById } from "../services/repo";
import { latestOf, metricsGapOf } from "./sampler";

type Point = ObservabilityResponse["history"][number];

export function history(deps: Deps, serviceId: string, range: RangeName): { step: number; points: Point[] } {
  const span = RANGES[range];
  const step = Math.ceil(span / POINTS);
  const end = Math.floor(deps.clock.now().getTime() / 1000) + 1; // the newest tick included
  const start = end - step * POINTS;
  const w = { serviceId, start, end, step };
  const { rows, ticks } = span <= 86400 ? repo.rawBuckets(deps.sqlite, w) : repo.rollupBuckets(deps.sqlite, w);
  const tickOf = new Map(ticks.map((t) => [t.b, t]));
  const sums = new Map<number, { cpu: number; mem: number; running: number; restarts: number; hasCpu: boolean; hasMem: boolean }>();
  for (const r of rows) {
    const s = sums.get(r.b) ?? { cpu: 0, mem: 0, running: 0, restarts: 0, hasCpu: false, hasMem: false };
    if (r.cpu !== null) (s.cpu += r.cpu), (s.hasCpu = true);
    if (r.mem !== null) (s.mem += r.mem), (s.hasMem = true);
    s.running += r.running;
    s.restarts += r.restarts; // each replica's cumulative count at its newest sample in the bucket
    sums.set(r.b, s);
  }
  const points: Point[] = [];
  for (let b = 0; b < POINTS; b++) {
    const timestamp = new Date((start + b * step) * 1000).toISOString();
    const s = sums.get(b);
    const tk = tickOf.get(b);
    const n = tk?.ticks ?? 0;
    if (!s || !tk || n === 0) {
      points.push({ timestamp, cpu_usage_m: null, memory_usage_bytes: null, pod_count: null, restart_count: null });
      continue;
    }
    points.push({
      timestamp,
      cpu_usage_m: s.hasCpu && tk.cpu_ticks ? Math.round((s.cpu / tk.cpu_ticks) * 10) / 10 : null,
      memory_usage_bytes: s.hasMem && tk.mem_ticks ? Math.round(s.mem / tk.mem_ticks) : null,
      pod_count: Math.round(s.running / n),
      restart_count: s.restarts,
    });
  }
  return { step, points };
}

export function observability(deps: Deps, serviceId: string, range: RangeName): ObservabilityResponse {
  const { step, points } = history(deps, serviceId, range);
  const replicas = [...latestOf(deps).values()]
    .filter((l) => l.serviceId === serviceId)
    .sort((a, b) => (a.process < b.process ? -1 : a.process > b.process ? 1 : a.replica - b.replica))
    .map((l) => ({
      process: l.process,
      replica: l.replica,
      container_id: l.clusterEnvId ? l.containerId : l.containerId.slice(0, 12), // a pod by its full name
      state: l.state === "unknown" && l.running ? "running" : l.state,
      running: l.running,
      restart_count: l.restarts,
      cpu_usage_m: l.cpuMillicores,
      memory_usage_bytes: l.memoryBytes,
      sampled_at: l.at,
      source: l.source,
    }));
  const envId = findServiceById(deps.db, serviceId)?.envId;
  const gap = envId ? metricsGapOf(deps).get(envId) : undefined;
  return { range, step, sample_interval: deps.config.sampleInterval, history: points, replicas, metrics_unavailable: gap ?? null };
}
