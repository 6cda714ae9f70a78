// Observability shapes: ObservabilityResponse of the reference contract (range + history points)
// plus what Ancla adds: the bucket step, the sample interval and the replicas' current states.
import { z } from "zod";

export const RANGES = { "1h": 3600, "6h": 6 * 3600, "24h": 86400, "7d": 7 * 86400, "30d": 30 * 86400 } as const;
export type RangeName = keyof typeof RANGES;
/** Points per series at most: the range is cut into this many equal buckets. */
export const POINTS = 120;

export const observabilityQuery = z.object({ range: z.enum(Object.keys(RANGES) as [RangeName, ...RangeName[]]).default("1h") });
export const projectObservabilityQuery = observabilityQuery.extend({
  service: z.string().min(1),
  env: z.string().min(1).optional(),
});

export const dataPoint = z.object({
  timestamp: z.string().nullable(),
  cpu_usage_m: z.number().nullable(),
  memory_usage_bytes: z.number().int().nullable(),
  pod_count: z.number().int().nullable(),
  restart_count: z.number().int().nullable(),
});

export const replicaUsage = z.object({
  process: z.string(),
  replica: z.number().int(),
  container_id: z.string(),
  state: z.string(),
  running: z.boolean(),
  restart_count: z.number().int(),
  cpu_usage_m: z.number().nullable(),
  memory_usage_bytes: z.number().int().nullable(),
  sampled_at: z.string(),
  source: z.string().nullable(),
});

export const observabilityResponse = z.object({
  range: z.string(),
  /** seconds per point */
  step: z.number().int(),
  sample_interval: z.number().int(),
  history: z.array(dataPoint),
  /** what the last sampler tick saw (empty before the first tick or with nothing running) */
  replicas: z.array(replicaUsage),
  /** why there are no CPU/memory numbers for a service on a cluster (no metrics server, API server not answering); null when there is no such reason */
  metrics_unavailable: z
    .object({
      reason: z.enum(["metrics_server_missing", "cluster_unreachable", "metrics_error", "target_unavailable"]),
      message: z.string(),
      since: z.string(),
    })
    .nullable(),
});
export type ObservabilityResponse = z.infer<typeof observabilityResponse>;
