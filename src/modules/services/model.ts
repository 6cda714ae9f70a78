// Service shapes: ApplicationSummary / ApplicationDetail of the reference contract, plus the
// service-only fields of SPEC §2 (image, git_url, build_ref, dockerfile_path, domains, port, …).
import { z } from "zod";
import { nameSchema, slugSchema } from "../../lib/slugs";
import * as f from "./fields";
import { domainView } from "../certificates/model";

const timestamp = z.string().nullable();
const activity = z.record(z.string(), z.unknown()).nullable();

export const applicationSummary = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  project_id: z.string(),
  platform: z.string(),
  created: timestamp,
  latest_image_version: z.number().int().nullable(),
  latest_release_version: z.number().int().nullable(),
  latest_deployment_complete: z.boolean().nullable(),
  /** documented on the services list (additive to the reference ApplicationSummary) */
  github_repository: z.string().nullable(),
  process_counts: z.record(z.string(), z.number().int()),
});
export type ApplicationSummary = z.infer<typeof applicationSummary>;

/**
 * One replica of the serving deployment as last observed (additive field of service detail and
 * pipeline status). `unknown`: not observed yet (the server just started, or no Docker watcher).
 */
export const replicaView = z.object({
  process: z.string(),
  replica: z.number().int(),
  container_id: z.string(),
  state: z.enum(["running", "starting", "restarting", "replacing", "exited", "paused", "unhealthy", "missing", "unknown"]),
  /** the last exit's code (also while Docker restarts it) */
  exit_code: z.number().int().nullable(),
  /** ancla_restarts + docker_restarts */
  restart_count: z.number().int(),
  ancla_restarts: z.number().int(),
  docker_restarts: z.number().int(),
  last_exit_at: z.string().nullable(),
  /** when the container last started: uptime (null until observed, or while it is down) */
  started_at: z.string().nullable(),
  host_port: z.number().int().nullable(),
  /** web replicas: whether the router sends it traffic */
  in_rotation: z.boolean().nullable(),
  /** why the last restart or replacement by Ancla failed */
  last_error: z.string().nullable(),
  /** when Ancla tries again (backoff) */
  next_attempt_at: z.string().nullable(),
});
export type ReplicaView = z.infer<typeof replicaView>;

/** ApplicationDetail plus the service fields; one shape for both route families. */
export const serviceDetail = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  project_id: z.string(),
  project_slug: z.string(),
  organization_slug: z.string(),
  env_id: z.string(),
  environment_slug: z.string(),
  platform: z.string(),
  process_counts: z.record(z.string(), z.number().int()),
  process_pod_classes: z.record(z.string(), z.string()),
  github_repository: z.string().nullable(),
  github_repository_is_private: z.boolean(),
  auto_deploy_branch: z.string().nullable(),
  subdirectory: z.string().nullable(),
  github_app_installation_id: z.number().int().nullable(),
  github_environment_name: z.string().nullable(),
  deployment_timeout: z.number().int().nullable(),
  health_check_path: z.string(),
  health_check_host: z.string().nullable(),
  privileged: z.boolean(),
  image: z.string().nullable(),
  git_url: z.string().nullable(),
  build_ref: z.string().nullable(),
  dockerfile_path: z.string(),
  domains: z.array(z.string()),
  port: z.number().int(),
  keep_images: z.number().int(),
  upstream_timeout: z.number().int(),
  /** with --https: plain HTTP for a name that has a certificate is redirected (308) */
  https_redirect: z.boolean(),
  /** with --https: HTTPS answers carry Strict-Transport-Security */
  hsts: z.boolean(),
  created: timestamp,
  updated: timestamp,
  latest_image: activity,
  latest_release: activity,
  latest_deployment: activity,
  /** the serving deployment's replicas as last observed (not in the reference contract: additive) */
  replicas: z.array(replicaView),
  /** every hostname of the service and its certificate's state (additive) */
  certificates: z.array(domainView),
});
export type ServiceDetail = z.infer<typeof serviceDetail>;
/** latest_image, latest_release and latest_deployment of ServiceDetail. */
export type LatestActivity = Pick<ServiceDetail, "latest_image" | "latest_release" | "latest_deployment">;
/** The latest versions an ApplicationSummary shows. */
export type LatestVersions = Pick<ApplicationSummary, "latest_image_version" | "latest_release_version" | "latest_deployment_complete">;

/** The reference contract's UpdateApplicationSettingsRequest fields (null resets a field to its default). */
export const settingsFields = {
  github_repository: f.githubRepositorySchema.nullable().optional(),
  github_repository_is_private: z.boolean().nullable().optional(),
  auto_deploy_branch: f.gitRefSchema.nullable().optional(),
  subdirectory: f.relativePathSchema.nullable().optional(),
  github_app_installation_id: z.number().int().positive().max(2 ** 53 - 1).nullable().optional(),
  github_environment_name: f.labelSchema.nullable().optional(),
  deployment_timeout: z.number().int().min(10).max(3600).nullable().optional(),
  health_check_path: f.healthPathSchema.nullable().optional(),
  health_check_host: f.hostHeaderSchema.nullable().optional(),
  // Ancla's own addition (not in the reference contract): seconds the router waits for a replica
  upstream_timeout: z.number().int().min(1).max(3600).nullable().optional(),
  https_redirect: z.boolean().nullable().optional(),
  hsts: z.boolean().nullable().optional(),
};
const serviceFields = {
  ...settingsFields,
  platform: z.enum(f.platforms).optional(),
  process_counts: f.processCountsSchema.optional(),
  process_pod_classes: f.processPodClassesSchema.optional(),
  privileged: z.boolean().optional(),
  image: f.imageRefSchema.nullable().optional(),
  git_url: f.gitUrlSchema.nullable().optional(),
  build_ref: f.gitRefSchema.nullable().optional(),
  dockerfile_path: f.relativePathSchema.nullable().optional(),
  domains: z.array(f.domainSchema).max(20).optional(),
  port: z.number().int().min(1).max(65535).optional(),
  keep_images: z.number().int().min(1).max(50).optional(),
};

export const createServiceRequest = z.object({ name: nameSchema, slug: slugSchema.optional(), ...serviceFields });
/** A PATCH of a service: any field it has; another key is a 422 naming it, never a 200 that changed nothing. */
export const patchServiceRequest = z.object({ name: nameSchema.optional(), slug: slugSchema.optional(), ...serviceFields }).strict();
/**
 * PATCH /applications/{application_id}/settings: the reference fields and every other field of
 * the service (it used to drop git_url and the rest silently); unknown keys are a 422 too.
 */
export const updateSettingsRequest = patchServiceRequest;
export type CreateServiceInput = z.infer<typeof createServiceRequest>;
export type PatchServiceInput = z.infer<typeof patchServiceRequest>;

export const scaleRequest = z
  .object({ process_counts: f.processCountsSchema.optional(), process_pod_classes: f.processPodClassesSchema.optional() })
  .refine((b) => b.process_counts !== undefined || b.process_pod_classes !== undefined, {
    message: "give process_counts or process_pod_classes",
    path: ["process_counts"],
  });
export type ScaleInput = z.infer<typeof scaleRequest>;

const seg = z.string().max(255);
export const envParams = z.object({ org: seg, project: seg, env: seg });
export const serviceParams = z.object({ org: seg, project: seg, env: seg, svc: seg });
