// The pipeline: build → release → deploy of one service as one queued unit. A request writes the
// image (and its build job) and a `pipeline` job right behind it; the queue runs a service's jobs
// one at a time, oldest first, so a second request's build waits until the first pipeline ended.
// The pipeline job (runner.ts) then creates the release and runs the deploy inline.
import type { Deps } from "../../deps";
import { Conflict, NotFound, AppError, PayloadTooLarge } from "../../errors";
import { mediaType } from "../../lib/body-limit";
import { enqueueJob, getJob, type JobRow } from "../../jobs/queue";
import type { Actor } from "../auth/service";
import { buildStageStatus, enqueueBuild, receiveContext, type BuildSource } from "../images";
import * as imageRepo from "../images/repo";
import { deployStageStatus, enqueueDeploy } from "../deployments/service";
import { findRelease } from "../releases/repo";
import { releaseStageStatus } from "../releases/service";
import { assertMayDeploy, envAccess } from "../envs/access";
import { projectAccess } from "../projects/access";
import { serviceAccess, type ServiceAccess } from "../services/access";
import { findDefaultEnv, findEnvById } from "../envs/repo";
import { findProjectById } from "../projects/repo";
import { findServiceById } from "../services/repo";
import { findOrg } from "../orgs/repo";
import type { UserRow } from "../auth/repo";
import { findDeployment } from "../deployments/repo";
import type { HistoryItem, PipelineStatus } from "./model";
import * as repo from "./repo";
import { PIPELINE_JOB } from "./repo";

export { PIPELINE_JOB };
/** actorId null: started by the server itself (a verified webhook push), not by a user. */
export type PipelinePayload = { imageId: string; actorId: string | null };

const TAR_TYPES = ["application/x-tar", "application/tar", "application/gzip", "application/x-gzip", "application/octet-stream"];

/** The build source of a pipeline request: an uploaded tar body, else git/image/last upload. */
export async function sourceFromRequest(deps: Deps, access: ServiceAccess, request: Request): Promise<BuildSource> {
  const type = mediaType(request);
  const length = request.headers.get("content-length");
  const hasBody = request.body !== null && length !== "0";
  if (hasBody && TAR_TYPES.includes(type)) {
    if (length && Number(length) > deps.config.maxContextSize) {
      throw new PayloadTooLarge(`The build context is larger than the limit of ${deps.config.maxContextSize} bytes (--max-context-size).`);
    }
    const capture = [access.service.dockerfilePath || "Dockerfile", "Procfile"];
    return { kind: "upload", context: await receiveContext(deps, access.service.id, request.body!, capture) };
  }
  if (hasBody && type && !type.includes("json")) {
    throw new AppError(415, `Unsupported Content-Type '${type}': send the build context as application/x-tar or application/gzip, or no body.`, "unsupported_media_type", 2);
  }
  return { kind: "auto", reuseLastUpload: true };
}

/** Queue a full pipeline; access (protected environments) is checked before anything is written. */
export function startPipeline(deps: Deps, access: ServiceAccess, source: BuildSource): { imageId: string; imageVersion: number; job: JobRow } {
  assertMayDeploy(access);
  const { image } = enqueueBuild(deps, access, source);
  const payload: PipelinePayload = { imageId: image.id, actorId: access.actor.user.id };
  const job = enqueueJob(deps, { serviceId: access.service.id, kind: PIPELINE_JOB, payload });
  return { imageId: image.id, imageVersion: image.version, job };
}

/**
 * A pipeline no user asked for through the API (e.g. a verified GitHub push to the service's
 * auto_deploy_branch): it acts as the server, so no membership or protection check applies.
 */
export function startSystemPipeline(deps: Deps, serviceId: string, source: BuildSource): { imageId: string; imageVersion: number; job: JobRow } {
  const access = systemAccess(deps, serviceId);
  const { image } = enqueueBuild(deps, access, source);
  const payload: PipelinePayload = { imageId: image.id, actorId: null };
  const job = enqueueJob(deps, { serviceId, kind: PIPELINE_JOB, payload });
  return { imageId: image.id, imageVersion: image.version, job };
}

/** The service's chain with the server as the actor (no user id is recorded). */
export function systemAccess(deps: Deps, serviceId: string): ServiceAccess {
  const service = findServiceById(deps.db, serviceId);
  const env = service && findEnvById(deps.db, service.envId);
  const project = env && findProjectById(deps.db, env.projectId);
  const org = project && findOrg(deps.db, project.orgId);
  if (!service || !env || !project || !org) throw new NotFound("Service");
  const server = { user: { id: null, username: "ancla", isAdmin: true } as unknown as UserRow, via: "key" as const };
  return { actor: server, org, project, env, service, isAdmin: true };
}

export async function deployFromRequest(deps: Deps, access: ServiceAccess, request: Request) {
  assertMayDeploy(access); // before reading any upload
  const { imageId, imageVersion, job } = startPipeline(deps, access, await sourceFromRequest(deps, access, request));
  return { ok: true, image_id: imageId, image_version: imageVersion, pipeline_id: job.id };
}

/** ?service=&env= below a project: env defaults to the project's default environment. */
export function queryAccess(deps: Deps, actor: Actor | null, org: string, project: string, q: { service: string; env?: string }): ServiceAccess {
  if (q.env) return serviceAccess(deps, actor, org, project, q.env, q.service);
  const p = projectAccess(deps, actor, org, project);
  const env = findDefaultEnv(deps.db, p.project.id);
  if (!env) throw new NotFound("Environment");
  return serviceAccess(deps, actor, org, project, env.slug, q.service);
}

export { envAccess };

export function pipelineStatus(deps: Deps, serviceId: string): PipelineStatus {
  return { build: buildStageStatus(deps, serviceId), release: releaseStageStatus(deps, serviceId), deploy: deployStageStatus(deps, serviceId) };
}

const seconds = (a: string | null, b: string | null) => (a && b ? Math.max(0, (Date.parse(b) - Date.parse(a)) / 1000) : null);

export function toHistoryItem(deps: Deps, job: JobRow): HistoryItem {
  const p = job.payload as Partial<PipelinePayload>;
  const r = (job.result ?? {}) as { releaseId?: string; deploymentId?: string };
  const image = p.imageId ? imageRepo.findImage(deps.db, p.imageId) : undefined;
  const release = r.releaseId ? findRelease(deps.db, r.releaseId) : undefined;
  const deployment = r.deploymentId ? findDeployment(deps.db, r.deploymentId) : undefined;
  let status = job.status;
  let stage: HistoryItem["stage"] = null;
  if (job.status === "queued") {
    if (image?.status === "running") (status = "running"), (stage = "build");
  } else if (job.status === "running") stage = deployment ? "deploy" : "release";
  else if (job.status === "error") stage = deployment ? "deploy" : release ? "release" : "build";
  const started = image?.startedAt ?? job.startedAt;
  return {
    id: job.id,
    status,
    stage,
    error_detail: job.error ?? null,
    image: image ? { id: image.id, version: image.version, status: image.status } : null,
    release: release ? { id: release.id, version: release.version } : null,
    deployment: deployment ? { id: deployment.id, version: deployment.version, status: deployment.status } : null,
    created: job.createdAt,
    started: started ?? null,
    finished: job.finishedAt,
    duration_seconds: seconds(started ?? null, job.finishedAt),
  };
}

/** One pipeline run of a project's services (for `ancla deploy` to follow). */
export function pipelineRun(deps: Deps, actor: Actor | null, org: string, project: string, id: string): HistoryItem {
  const p = projectAccess(deps, actor, org, project);
  const job = getJob(deps, id);
  const service = job && findServiceById(deps.db, job.serviceId);
  if (!job || job.kind !== PIPELINE_JOB || !service || service.projectId !== p.project.id) throw new NotFound("Pipeline run");
  return toHistoryItem(deps, job);
}

export const pipelineHistory = (deps: Deps, serviceId: string, limit: number): HistoryItem[] =>
  repo.pipelineJobs(deps.db, serviceId, limit).map((j) => toHistoryItem(deps, j));

/**
 * Redeploy the previous successful release: the latest complete deployment serves now; the one
 * before it with a different release is what ran before (scales of the same release are skipped).
 */
export function rollback(deps: Deps, access: ServiceAccess, opts: { runReleasePhase?: boolean } = {}) {
  assertMayDeploy(access);
  const done = repo.completeDeployments(deps.db, access.service.id);
  const current = done[0];
  if (!current) throw new Conflict("Nothing to roll back: this service has no successful deployment yet.");
  const previous = done.find((d) => d.releaseId !== current.releaseId);
  if (!previous) throw new Conflict("Nothing to roll back to: no earlier release of this service was deployed successfully.");
  const release = findRelease(deps.db, previous.releaseId);
  if (!release) throw new Conflict("The previous release no longer exists.");
  const d = enqueueDeploy(deps, access, release.id, opts.runReleasePhase ? { metadata: { run_release_phase: true } } : {});
  return { ok: true, deployment_id: d.id, release_id: release.id, release_version: release.version };
}
