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

// a replica as service detail and pipeline status show it: a field of the service views
export { replicaView, type ReplicaView } from "../services/model";

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
