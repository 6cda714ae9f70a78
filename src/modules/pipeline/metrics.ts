// Pipeline metrics over the last 30 days: per stage success/error counts, success rate and
// duration avg/p50/p95 (seconds, nearest-rank percentiles). A stage without activity is null.
import type { Deps } from "../../deps";
import type { StageMetrics } from "./model";
import * as repo from "./repo";

export const METRICS_WINDOW_DAYS = 30;
const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

/** Nearest-rank percentile of sorted values. */
export function percentile(sorted: number[], p: number): number {
  if (!sorted.length) return 0;
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length, Math.max(1, rank)) - 1]!;
}

export function durationStatsOf(seconds: number[]) {
  if (!seconds.length) return null;
  const sorted = [...seconds].sort((a, b) => a - b);
  const avg = sorted.reduce((s, v) => s + v, 0) / sorted.length;
  return { avg: round(avg), p50: round(percentile(sorted, 50)), p95: round(percentile(sorted, 95)), count: sorted.length };
}

type Row = { status: string; startedAt?: string | null; finishedAt?: string | null };

export function stageMetricsOf(rows: Row[], timed: boolean): StageMetrics | null {
  if (!rows.length) return null;
  const success = rows.filter((r) => r.status === "complete").length;
  const error = rows.length - success;
  const durations = timed
    ? rows.flatMap((r) => {
        if (!r.startedAt || !r.finishedAt) return [];
        const ms = Date.parse(r.finishedAt) - Date.parse(r.startedAt);
        return Number.isFinite(ms) && ms >= 0 ? [ms / 1000] : [];
      })
    : [];
  return { success, error, success_rate: round(success / rows.length, 4), duration: timed ? durationStatsOf(durations) : null };
}

export function pipelineMetrics(deps: Deps, serviceId: string) {
  const since = new Date(deps.clock.now().getTime() - METRICS_WINDOW_DAYS * 86_400_000).toISOString();
  return {
    build: stageMetricsOf(repo.finishedImagesSince(deps.db, serviceId, since), true),
    release: stageMetricsOf(repo.releasesSince(deps.db, serviceId, since), false),
    deploy: stageMetricsOf(repo.finishedDeploymentsSince(deps.db, serviceId, since), true),
  };
}
