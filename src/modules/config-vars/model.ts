// Config variable shapes of the reference contract, plus the hierarchical family's extras.
import { z } from "zod";
import { configScopes } from "../../db/schema";

export const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;
export const MAX_NAME = 255;
export const MAX_VALUE_BYTES = 64 * 1024;
export const MAX_VARS_PER_SCOPE = 1000;

const preview = (v: unknown) => JSON.stringify(String(v).slice(0, 64));

/** Names are validated here (with the offending name in the message) and again in the service. */
export const varName = z
  .string()
  .max(MAX_NAME, { error: (i) => `${preview(String(i.input).slice(0, 32))}… is longer than ${MAX_NAME} characters` })
  .regex(NAME_RE, { error: (i) => `${preview(i.input)} is not a valid name: use letters, digits and underscores, not starting with a digit` });

export const configurationSummary = z.object({
  id: z.string(),
  name: z.string(),
  value: z.string(),
  secret: z.boolean(),
  buildtime: z.boolean(),
  created: z.string().nullable(),
  updated: z.string().nullable(),
});

export const createConfigurationRequest = z.object({
  name: varName,
  value: z.string(),
  // omitted ⇒ an existing variable keeps its flag (so re-setting a secret does not expose it)
  secret: z.boolean().optional(),
  buildtime: z.boolean().optional(),
});

export const updateConfigurationRequest = z.object({
  value: z.string(),
  secret: z.boolean().nullable().optional(),
  buildtime: z.boolean().nullable().optional(),
});

export const bulkConfigurationRequest = z.object({
  variables: z.record(z.string(), z.string()).optional(),
  raw: z.string().nullable().optional(),
  secret: z.boolean().optional(),
  buildtime: z.boolean().optional(),
  overwrite: z.boolean().optional(),
});

/** One entry of the array form `[{"name", "value"[, "secret", "buildtime"]}]` (the documented environment config/bulk body). */
export const bulkItem = z.object({ name: z.string().max(MAX_NAME * 4), value: z.string(), secret: z.boolean().optional(), buildtime: z.boolean().optional() });
/** A bulk body: the reference object, or the array form. */
export const bulkBody = z.union([bulkConfigurationRequest, z.array(bulkItem).max(MAX_VARS_PER_SCOPE)]);

export const bulkError = z.object({
  line: z.number().int().optional(),
  /** the variable, or `line N` when the line has no readable name */
  name: z.string(),
  message: z.string(),
  /** the message again, under the key the published clients print (`name: error`) */
  error: z.string(),
});

export const bulkConfigurationResponse = z.object({
  created: z.array(z.string()),
  /** names that existed and were replaced (overwrite: true) */
  updated: z.array(z.string()),
  skipped: z.array(z.string()),
  errors: z.array(bulkError),
});

export const resolvedVar = z.object({
  name: z.string(),
  value: z.string(),
  secret: z.boolean(),
  buildtime: z.boolean(),
  scope: z.enum(configScopes),
  scope_id: z.string(),
});

const seg = z.string().min(1).max(255);
export const orgParams = z.object({ org: seg });
export const teamParams = z.object({ org: seg, team: seg });
export const projectParams = z.object({ org: seg, project: seg });
export const envParams = z.object({ org: seg, project: seg, env: seg });
export const serviceParams = z.object({ org: seg, project: seg, env: seg, svc: seg });
export const varParam = z.object({ config_id: seg });

export type ConfigurationSummary = z.infer<typeof configurationSummary>;
export type CreateConfigurationRequest = z.infer<typeof createConfigurationRequest>;
export type UpdateConfigurationRequest = z.infer<typeof updateConfigurationRequest>;
export type BulkConfigurationRequest = z.infer<typeof bulkConfigurationRequest>;
export type BulkConfigurationResponse = z.infer<typeof bulkConfigurationResponse>;
export type BulkError = z.infer<typeof bulkError>;
export type BulkItem = z.infer<typeof bulkItem>;
export type ResolvedVar = z.infer<typeof resolvedVar>;
