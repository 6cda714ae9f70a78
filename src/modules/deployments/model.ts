// Deployment shapes of the reference contract (DeploymentDetail, DeploymentLogResponse, lists).
import { z } from "zod";
import { paginated } from "../../lib/pagination";

const meta = z.record(z.string(), z.unknown());

export const deploymentDetail = z.object({
  id: z.string(),
  application_id: z.string(),
  version: z.number().int(),
  kind: z.string(),
  status: z.string(),
  release: meta,
  complete: z.boolean(),
  error: z.boolean(),
  error_detail: z.string().nullable(),
  deploy_step: meta.nullable(),
  deploy_metadata: meta.nullable(),
  deploy_log: z.string().nullable(),
  job_id: z.string().nullable(),
  created: z.string().nullable(),
  updated: z.string().nullable(),
});

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

export const deploymentListResponse = paginated(deploymentDetail);

export const deploymentLogResponse = z.object({
  status: z.string(),
  log_text: z.string().nullable(),
  error: z.boolean(),
  error_detail: z.string().nullable(),
  deploy_step: meta.nullable(),
});

const seg = z.string().max(255);
export const idParams = z.object({ org: seg });
export const appParams = z.object({ org: seg, project: seg, app: seg });
export const deploymentParams = z.object({ deployment_id: seg });
export const envParams = z.object({ org: seg, project: seg, env: seg });
export const envDeploymentParams = envParams.extend({ id: seg });

export type DeploymentDetail = z.infer<typeof deploymentDetail>;
export type DeploymentList = z.infer<typeof deploymentListResponse>;
export type DeploymentLog = z.infer<typeof deploymentLogResponse>;
