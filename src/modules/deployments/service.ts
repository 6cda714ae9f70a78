// Deployments: queue a rollout (or an in-place scale) of a release, and the reference views.
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import { Conflict, NotFound } from "../../errors";
import { newId } from "../../lib/ids";
import { offsetOf, pageOf, type PageQuery } from "../../lib/pagination";
import type { DeploymentKind } from "../../db/schema";
import { enqueueJob } from "../../jobs/queue";
import { requireUser, type Actor } from "../auth/service";
import { assertMayDeploy, envAccess, type EnvAccess } from "../envs/access";
import { serviceAccessById, type ServiceAccess } from "../services/access";
import { findServiceById } from "../services/repo";
import { findRelease, findReleaseByVersion, latestRelease } from "../releases/repo";
import { assertReleaseImageKept, toReleaseSummary, type ReleaseSummaryRow } from "../releases/service";
import { z } from "zod";
import { cachedJsonUntilWrite, jsonResponse, readTx } from "../../db/client";
import { deploymentDetail } from "./model";
import * as repo from "./repo";
import type { PipelineStageStatus } from "../images/model";
import type { DeploymentRow } from "./repo";
import { storedLogEvents } from "../../lib/live-stream";

export const DEPLOY_JOB = "deploy";
export const DEPLOY_STEPS = ["prepare", "start", "health", "switch", "cleanup"] as const;

export type EnqueueDeployOptions = { kind?: DeploymentKind; actorId?: string | null; metadata?: Record<string, unknown> };

/**
 * Queue a rollout of one release of the service (deploying an older release is a rollback).
 * The deployment row and its job are written in one transaction, so a crash never leaves one
 * without the other.
 */
export function enqueueDeploy(deps: Deps, access: ServiceAccess, releaseId: string, opts: EnqueueDeployOptions = {}): DeploymentRow {
  assertMayDeploy(access);
  const release = findRelease(deps.db, releaseId);
  if (!release || release.serviceId !== access.service.id) throw new NotFound("Release");
  if (release.status !== "complete") throw new Conflict(`Release v${release.version} is not deployable (status ${release.status}).`);
  // scales are left out: they follow replica counts the request already stored (refusing now
  // would half-apply it), and the serving release's image is in use, which retention never removes
  if ((opts.kind ?? "deploy") === "deploy") assertReleaseImageKept(deps, release);
  const now = isoNow(deps);
  return deps.db.transaction((tx) => {
    const id = newId();
    const version = repo.nextDeploymentVersion(tx as never, access.service.id);
    const job = enqueueJob(deps, { serviceId: access.service.id, kind: DEPLOY_JOB, payload: { deploymentId: id } }, tx as never);
    return repo.insertDeployment(tx as never, {
        id,
        serviceId: access.service.id,
        releaseId,
        version,
        kind: opts.kind ?? "deploy",
        status: "queued",
        metadata: { ...opts.metadata, target: access.env.target, release_version: release.version, port: release.port },
        jobId: job.id,
        createdById: opts.actorId ?? access.actor.user.id,
        createdAt: now,
        updatedAt: now,
      });
  });
}

/** Deploy the latest release (or release `version`) of a service. */
export function deployServiceVersion(deps: Deps, access: ServiceAccess, version?: number, opts: { runReleasePhase?: boolean } = {}): DeploymentRow {
  assertMayDeploy(access);
  const release = version === undefined ? latestRelease(deps.db, access.service.id) : findReleaseByVersion(deps.db, access.service.id, version);
  if (!release) throw version === undefined ? new Conflict("This service has no release yet; create one first.") : new NotFound("Release");
  return enqueueDeploy(deps, access, release.id, opts.runReleasePhase ? { metadata: { run_release_phase: true } } : {});
}

/**
 * Make stored replica counts and pod classes real: an in-place scale of the serving release
 * (no new release). Returns null when nothing is deployed yet (the counts apply at the next deploy).
 * The counts are taken from `access.service`, so call this with the row that already stores them.
 */
export function enqueueScale(deps: Deps, access: ServiceAccess, _counts?: Record<string, number>, _podClasses?: Record<string, string>): DeploymentRow | null {
  assertMayDeploy(access);
  const current = repo.currentDeployment(deps.db, access.service.id);
  if (!current) return null;
  // the counts asked for travel with the deployment: it runs with them, and a failure restores the
  // service's counts to what runs only while they are still these (scale-counts.ts)
  const scale = { process_counts: access.service.processCounts, process_pod_classes: access.service.processPodClasses };
  return enqueueDeploy(deps, access, current.releaseId, { kind: "scale", metadata: { scale } });
}

// ---- views ----

export function deploymentAccess(deps: Deps, actor: Actor | null, id: string): { deployment: DeploymentRow; access: ServiceAccess } {
  const d = repo.findDeployment(deps.db, id);
  if (!d) {
    requireUser(actor); // 401 before 404
    throw new NotFound("Deployment");
  }
  try {
    return { deployment: d, access: serviceAccessById(deps, actor, d.serviceId) };
  } catch (e) {
    throw e instanceof NotFound ? new NotFound("Deployment") : e;
  }
}

/** DeploymentDetail; lists leave the log out (`withLog: false`): it is one request away. */
export function toDeploymentDetail(deps: Deps, d: DeploymentRow, platform: string, withLog = true) {
  return deploymentDetailOf(d, findRelease(deps.db, d.releaseId), platform, withLog ? repo.logLines(deps.db, d.id).join("\n") : null);
}

function deploymentDetailOf(d: DeploymentRow, release: ReleaseSummaryRow | null | undefined, platform: string, log: string | null) {
  const { started: _started, ...meta } = d.metadata;
  return {
    id: d.id,
    application_id: d.serviceId,
    version: d.version,
    kind: d.kind,
    status: d.status,
    release: release ? toReleaseSummary(release, platform) : {},
    complete: d.status === "complete",
    error: d.status === "error",
    error_detail: d.errorDetail,
    deploy_step: d.deployStep ?? null,
    deploy_metadata: meta,
    deploy_log: log,
    job_id: d.jobId,
    created: d.createdAt,
    updated: d.updatedAt,
  };
}

const FINISHED = new Set(["complete", "error"]);

/** The deploy log as Server-Sent Events: stored lines from Last-Event-ID on, then live ones, then `end` with the outcome. */
export function deploymentLogEvents(deps: Deps, d: DeploymentRow, req: Request): Response {
  return storedLogEvents(req, deps.shutdown.signal, {
    key: repo.deploymentLogKey(d.id),
    after: 0,
    read: (from) => repo.readLog(deps.db, d.id, from),
    finished: () => {
      const fresh = repo.findDeployment(deps.db, d.id);
      if (!fresh) return { status: "deleted" };
      return FINISHED.has(fresh.status) ? { status: fresh.status, version: fresh.version, error_detail: fresh.errorDetail } : null;
    },
  });
}

export function toDeploymentLog(deps: Deps, d: DeploymentRow) {
  return { status: d.status, log_text: repo.logLines(deps.db, d.id).join("\n"), error: d.status === "error", error_detail: d.errorDetail, deploy_step: d.deployStep ?? null };
}

export function listDeploymentPage(deps: Deps, access: ServiceAccess, q: PageQuery) {
  const rows = repo.listForService(deps.db, access.service.id, q.per_page, offsetOf(q));
  return pageOf(rows.map((d) => toDeploymentDetail(deps, d, access.service.platform, false)), repo.countForService(deps.db, access.service.id), q);
}

/** The latest 50 deployments of an environment's services, each with its release: one query. */
export function listEnvDeployments(deps: Deps, envId: string) {
  return repo.listForEnvWithRelease(deps.db, envId, 50).map((row) => deploymentDetailOf(row.d, row.r, row.platform, null));
}

// GET …/envs/{env}/deployments: a pure function of the database, kept as checked JSON until the
// next write (every deploy step and log line is one, so a running deploy shows at once). One per Deps.
const envListCaches = new WeakMap<Deps, (sqlite: Deps["sqlite"], envId: string) => string>();
const envListSchema = z.array(deploymentDetail);

/** listEnvDeployments as a ready JSON response, the access checks in the same read transaction. */
export function envDeploymentsResponse(deps: Deps, actor: Actor | null, p: { org: string; project: string; env: string }): Response {
  let cached = envListCaches.get(deps);
  if (!cached) envListCaches.set(deps, (cached = cachedJsonUntilWrite(envListSchema, (envId) => listEnvDeployments(deps, envId))));
  const lookup = cached;
  return jsonResponse(readTx(deps.sqlite, () => lookup(deps.sqlite, envAccess(deps, actor, p.org, p.project, p.env).env.id)));
}

export function envDeployment(deps: Deps, access: EnvAccess, id: string): DeploymentRow {
  const d = repo.findDeployment(deps.db, id);
  const svc = d && findServiceById(deps.db, d.serviceId);
  if (!d || !svc || svc.envId !== access.env.id) throw new NotFound("Deployment");
  return d;
}

/** Latest deployment's stage status for the pipeline views; null when the service has none. */
export function deployStageStatus(deps: Deps, serviceId: string): PipelineStageStatus | null {
  const d = repo.latestDeployment(deps.db, serviceId);
  if (!d) return null;
  const release = findRelease(deps.db, d.releaseId);
  return { id: d.id, status: d.status, version: release?.version ?? null, error_detail: d.errorDetail, step: d.deployStep ?? null };
}

/** The latest deployment as DeploymentDetail (ApplicationDetail.latest_deployment). */
export function latestDeploymentDetail(deps: Deps, serviceId: string, platform: string) {
  const d = repo.latestDeployment(deps.db, serviceId);
  return d ? toDeploymentDetail(deps, d, platform) : null;
}

/** Whether each service's latest deployment completed (absent: never deployed). */
export const latestDeploymentComplete = (deps: Deps, serviceIds: string[]): Map<string, boolean> =>
  new Map(repo.latestStatusesOf(deps.db, serviceIds).map((r) => [r.serviceId, r.status === "complete"]));
