// Image shapes of the reference contract (ImageSummary, ImageDetail, ImageLogResponse, …).
import { z } from "zod";
import { paginated } from "../../lib/pagination";

export const imageSummary = z.object({
  id: z.string(),
  version: z.number().int(),
  application_id: z.string(),
  repository_name: z.string(),
  built: z.boolean(),
  error: z.boolean(),
  status: z.enum(["queued", "running", "complete", "error"]),
  created: z.string().nullable(),
  updated: z.string().nullable(),
});

export const imageDetail = imageSummary.extend({
  image_id: z.string().nullable(),
  error_detail: z.string().nullable(),
  build_slug: z.string().nullable(),
  build_ref: z.string().nullable(),
  dockerfile: z.string().nullable(),
  procfile: z.string().nullable(),
  processes: z.record(z.string(), z.unknown()).nullable(),
  image_metadata: z.record(z.string(), z.unknown()).nullable(),
  commit_sha: z.string().nullable(),
  tag: z.string(),
  source: z.enum(["upload", "git", "image"]),
  size_bytes: z.number().int().nullable(),
  started_at: z.string().nullable(),
  finished_at: z.string().nullable(),
});

export const imageListResponse = paginated(imageSummary);

export const imageLogResponse = z.object({
  status: z.string(),
  version: z.number().int(),
  log_text: z.string().nullable(),
  error: z.boolean(),
  error_detail: z.string().nullable(),
  build_step: z.record(z.string(), z.unknown()).nullable(),
  /** id of the last line included: pass it back as `?after=` to read only newer lines */
  last_line_id: z.number().int(),
});

export const imageBuildResponse = z.object({ ok: z.boolean(), image_id: z.string(), version: z.number().int(), job_id: z.string() });

export const pipelineStageStatus = z.object({
  /** the image, release or deployment this stage is about (the published CLI's `ancla logs` reads deploy.id) */
  id: z.string(),
  status: z.string(),
  version: z.number().int().nullable(),
  error_detail: z.string().nullable(),
  step: z.record(z.string(), z.unknown()).nullable(),
});
export type PipelineStageStatus = z.infer<typeof pipelineStageStatus>;

export const logQuery = z.object({ after: z.coerce.number().int().min(0).optional() });

export type ImageSummary = z.infer<typeof imageSummary>;
export type ImageDetail = z.infer<typeof imageDetail>;
export type ImageLog = z.infer<typeof imageLogResponse>;
export type ImageBuildResponse = z.infer<typeof imageBuildResponse>;
