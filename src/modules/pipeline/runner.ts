// The `pipeline` job (registered by modules/wiring.ts): runs after its build job (same service,
// queued right before it). It checks the build, snapshots a release, then queues the deploy and
// runs that deploy job in its own turn (runJobNow, jobs/worker.ts) — the worker never picks it
// because this service is busy with the pipeline — so a later request's build waits until this
// whole pipeline ended. Interrupted: the deploy job's own recovery removes its containers; a
// deploy that never started is finished here.
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import { INTERRUPTED, markJob, type JobContext, type JobHandler, type JobRow } from "../../jobs/queue";
import { runJobNow } from "../../jobs/worker";
import { findUserById } from "../auth/repo";
import { findDeployment, updateDeployment, appendLog } from "../deployments/repo";
import { enqueueDeploy } from "../deployments/service";
import * as imageRepo from "../images/repo";
import { serviceAccessById, type ServiceAccess } from "../services/access";
import { createRelease } from "../releases/service";
import { queuedDeploymentsOf } from "./repo";
import { systemAccess, type PipelinePayload } from "./service";

/** The access of the user who started the pipeline, checked again now (membership may have ended). */
function accessOf(deps: Deps, serviceId: string, actorId: string | null): ServiceAccess {
  if (actorId === null) return systemAccess(deps, serviceId);
  const user = findUserById(deps.db, actorId);
  if (!user) throw new Error("the user who started this pipeline no longer exists");
  return serviceAccessById(deps, { user, via: "key" }, serviceId);
}

async function runPipeline({ deps, job, signal, saveResult }: JobContext): Promise<Record<string, unknown>> {
  const p = job.payload as unknown as PipelinePayload;
  const image = imageRepo.findImage(deps.db, p.imageId);
  if (!image) throw new Error("the image of this pipeline no longer exists");
  if (image.status !== "complete") {
    if (image.errorDetail === INTERRUPTED) throw new Error(INTERRUPTED);
    throw new Error(`build v${image.version} failed: ${image.errorDetail ?? `status ${image.status}`}`);
  }
  const access = accessOf(deps, job.serviceId, p.actorId);
  const release = createRelease(deps, access, { imageId: image.id, note: `Created by pipeline ${job.id}` });
  saveResult({ releaseId: release.id, releaseVersion: release.version });
  const d = enqueueDeploy(deps, access, release.id, { actorId: p.actorId });
  saveResult({ deploymentId: d.id, deploymentVersion: d.version });
  await runJobNow(deps, d.jobId!, signal);
  if (signal.aborted) throw signal.reason ?? new Error("server stopping");
  const done = findDeployment(deps.db, d.id);
  if (done?.status !== "complete") throw new Error(`deploy v${d.version} failed: ${done?.errorDetail ?? "unknown reason"}`);
  return { imageId: image.id, releaseId: release.id, deploymentId: d.id };
}

/** A deploy this pipeline queued but never started must not run after the restart. */
async function onInterrupted(deps: Deps, job: JobRow): Promise<void> {
  const releaseId = typeof job.result?.releaseId === "string" ? job.result.releaseId : null;
  if (!releaseId) return;
  const now = isoNow(deps);
  for (const d of queuedDeploymentsOf(deps.db, releaseId)) {
    appendLog(deps.db, d.id, `Deployment ${INTERRUPTED}`, now);
    updateDeployment(deps.db, d.id, { status: "error", errorDetail: INTERRUPTED, finishedAt: now, updatedAt: now });
    if (d.jobId) markJob(deps, d.jobId, { status: "error", error: INTERRUPTED, finishedAt: now });
  }
}

export const pipelineJob: JobHandler = { run: runPipeline, onInterrupted };
