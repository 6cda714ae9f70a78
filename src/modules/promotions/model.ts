// Promotion shapes: preview (config names only, never values) and the promotion record.
import { z } from "zod";

const seg = z.string().min(1).max(255);
export const projectParams = z.object({ org: seg, project: seg });
export const promotionParams = projectParams.extend({ id: seg });

export const previewQuery = z.object({ service: seg, source_env: seg, target_env: seg });
export const promoteRequest = z.object({ service: seg, source_env: seg, target_env: seg }).strict();
export type PromoteInput = z.infer<typeof promoteRequest>;

const names = z.array(z.string());
export const configDiff = z.object({ added: names, removed: names, changed: names });
export type ConfigDiff = z.infer<typeof configDiff>;

export const promotionPreview = configDiff.extend({
  service: z.string(),
  source_env: z.string(),
  target_env: z.string(),
  source_release_id: z.string(),
  source_release_version: z.number().int(),
  image: z.object({ ref: z.string(), repository_name: z.string(), tag: z.string().nullable(), version: z.number().int().nullable() }),
  /** false: promoting creates the target service from the source's settings */
  target_exists: z.boolean(),
  unchanged: z.number().int(),
  /** the documented wrapper of added/removed/changed (the same lists) */
  config_diff: configDiff,
});

export const promotionDetail = z.object({
  id: z.string(),
  status: z.enum(["pending", "deploying", "complete", "error"]),
  service: z.string(),
  source_env: z.string().nullable(),
  target_env: z.string().nullable(),
  source_release_version: z.number().int().nullable(),
  target_release_version: z.number().int().nullable(),
  /** documented ids: the promoted release, the release made in the target, its deployment (= deployment_id) */
  source_release_id: z.string().nullable(),
  target_release_id: z.string().nullable(),
  target_deployment_id: z.string().nullable(),
  target_service_id: z.string().nullable(),
  target_created: z.boolean(),
  deployment_id: z.string().nullable(),
  config_changes: configDiff,
  error_detail: z.string().nullable(),
  created: z.string(),
  updated: z.string(),
  finished: z.string().nullable(),
});

export type PromotionPreview = z.infer<typeof promotionPreview>;
export type PromotionDetail = z.infer<typeof promotionDetail>;
