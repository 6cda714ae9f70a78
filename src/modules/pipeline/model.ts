// Pipeline shapes: PipelineStatusResponse, PipelineMetricsResponse, DeployTriggerResponse of the
// reference contract, plus the hierarchical family's query and history item.
import { z } from "zod";
import { pipelineStageStatus } from "../images/model";

export { pipelineStageStatus };

export const pipelineStatusResponse = z.object({
  build: pipelineStageStatus.nullable(),
  release: pipelineStageStatus.nullable(),
  deploy: pipelineStageStatus.nullable(),
});
export type PipelineStatus = z.infer<typeof pipelineStatusResponse>;

export const durationStats = z.object({ avg: z.number(), p50: z.number(), p95: z.number(), count: z.number().int() });
export const stageMetrics = z.object({
  success: z.number().int(),
  error: z.number().int(),
  /** success / (success + error), 0..1 */
  success_rate: z.number(),
  /** seconds; null for a stage without timed runs (releases are instant snapshots) */
  duration: durationStats.nullable(),
});
export const pipelineMetricsResponse = z.object({
  build: stageMetrics.nullable(),
  release: stageMetrics.nullable(),
  deploy: stageMetrics.nullable(),
});
export type StageMetrics = z.infer<typeof stageMetrics>;

export const deployTriggerResponse = z.object({
  ok: z.boolean(),
  image_id: z.string(),
  image_version: z.number().int(),
  pipeline_id: z.string(),
});

export const historyItem = z.object({
  id: z.string(),
  status: z.enum(["queued", "running", "complete", "error"]),
  stage: z.enum(["build", "release", "deploy"]).nullable(),
  error_detail: z.string().nullable(),
  image: z.object({ id: z.string(), version: z.number().int(), status: z.string() }).nullable(),
  release: z.object({ id: z.string(), version: z.number().int() }).nullable(),
  deployment: z.object({ id: z.string(), version: z.number().int(), status: z.string() }).nullable(),
  created: z.string(),
  started: z.string().nullable(),
  finished: z.string().nullable(),
  duration_seconds: z.number().nullable(),
});
export type HistoryItem = z.infer<typeof historyItem>;

export const rollbackResponse = z.object({ ok: z.boolean(), deployment_id: z.string(), release_id: z.string(), release_version: z.number().int() });

const seg = z.string().min(1).max(255);
export const projectParams = z.object({ org: seg, project: seg });
export const envParams = z.object({ org: seg, project: seg, env: seg });
export const idParams = z.object({ org: seg });
export const runParams = z.object({ org: seg, project: seg, id: seg });
export const appParams = z.object({ org: seg, project: seg, app: seg });

/** ?service=&env=&limit= of the hierarchical pipeline routes; env defaults to the project's default. */
export const pipelineQuery = z.object({
  service: seg,
  env: seg.optional(),
  limit: z.coerce.number().int().min(1).max(100).default(20),
  /** a rollback runs the release phase again only when asked (true|false) */
  run_release_phase: z.enum(["true", "false"]).optional(),
});
export const envDeployQuery = z.object({ service: seg });

export type DeployTriggerResponse = z.infer<typeof deployTriggerResponse>;
export type RollbackResponse = z.infer<typeof rollbackResponse>;
