// Replica usage on a cluster from metrics.k8s.io (the metrics server). It reports CPU as a rate
// over its own window; the reader integrates it into the cumulative counter the sampler takes
// deltas of. Without a metrics server the read fails with an honest "metrics server not installed".
import { UsageUnavailable, type UsageReader, type UsageReading } from "../target";
import { statusOf, type Kube } from "./client";

type PodMetrics = { metadata?: { name?: string }; containers?: { usage?: { cpu?: string; memory?: string } }[] };

const UNITS: Record<string, number> = { n: 1e-9, u: 1e-6, m: 1e-3, "": 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** A Kubernetes quantity ("250m", "12345n", "64Mi", "1.5") as a number of base units. */
export function parseQuantity(q: string | undefined): number {
  const m = /^([0-9.]+)(n|u|m|k|M|G|T|Ki|Mi|Gi|Ti)?$/.exec(q ?? "");
  return m ? Number(m[1]) * UNITS[m[2] ?? ""]! : 0;
}

export class MetricsUnavailable extends UsageUnavailable {
  constructor() {
    super("metrics server not installed: the cluster does not serve metrics.k8s.io");
  }
}

/** A read gives up after this long (an API server that does not answer never holds the sampler). */
export const METRICS_TIMEOUT_MS = 10_000;

/** `minIntervalMs`: how often the sampler may read (a remote cluster: less often than every tick). */
export function createMetricsReader(kube: () => Promise<Kube>, namespace: string, minIntervalMs?: number): UsageReader {
  const cumulative = new Map<string, { cpuUsec: number; atMs: number }>();
  return {
    minIntervalMs,
    async read(targets) {
      const k = await kube();
      const res = await k.fetch(`/apis/metrics.k8s.io/v1beta1/namespaces/${encodeURIComponent(namespace)}/pods`, { signal: AbortSignal.timeout(METRICS_TIMEOUT_MS) });
      if (res.status === 404 || res.status === 503) {
        await res.arrayBuffer().catch(() => {});
        throw new MetricsUnavailable();
      }
      if (!res.ok) throw new Error(`metrics.k8s.io answered ${res.status}`);
      const items = ((await res.json()) as { items?: PodMetrics[] }).items ?? [];
      const wanted = new Set(targets.map((t) => t.id));
      const now = performance.now();
      const out = new Map<string, UsageReading>();
      for (const pod of items) {
        const name = pod.metadata?.name ?? "";
        if (!wanted.has(name)) continue;
        const cores = (pod.containers ?? []).reduce((s, c) => s + parseQuantity(c.usage?.cpu), 0);
        const memory = (pod.containers ?? []).reduce((s, c) => s + parseQuantity(c.usage?.memory), 0);
        const prev = cumulative.get(name);
        const cpuUsec = (prev?.cpuUsec ?? 0) + (prev ? cores * (now - prev.atMs) * 1000 : 0);
        cumulative.set(name, { cpuUsec, atMs: now });
        out.set(name, { cpuUsec, memoryBytes: Math.round(memory), rxBytes: null, txBytes: null, source: "metrics-api", atMs: now });
      }
      return out;
    },
    retain(keep) {
      for (const id of cumulative.keys()) if (!keep.has(id)) cumulative.delete(id);
    },
  };
}

export const isMetricsMissing = (e: unknown) => e instanceof MetricsUnavailable || statusOf(e) === 404;
