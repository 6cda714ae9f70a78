// Images: start builds (upload, git or pre-built image), list them, show detail, log and status.
import { isoNow, type Deps } from "../../deps";
import { NotFound, Unprocessable } from "../../errors";
import { newId, isUuid } from "../../lib/ids";
import { offsetOf, pageOf, type PageQuery } from "../../lib/pagination";
import { gitSourceUrl } from "../../lib/git";
import { repositoryName, versionTag } from "../../lib/image-names";
import { enqueueJob, type JobRow } from "../../jobs/queue";
import { requireUser, type Actor } from "../auth/service";
import { serviceAccessById, type ServiceAccess } from "../services/access";
import { adoptContext, pruneContexts, reuseContext, type StoredContext } from "./context-store";
import type { PipelineStageStatus } from "./model";
import * as repo from "./repo";
import { storedLogEvents } from "../../lib/live-stream";

export const BUILD_JOB = "build";

export type BuildPayload = {
  imageId: string;
  source: "upload" | "git" | "image";
  contextPath?: string;
  gitUrl?: string;
  ref?: string | null;
  sourceImage?: string;
};

/**
 * What to build from:
 * - `upload`: a context already received and checked (receiveContext);
 * - `auto`: the service's `image`, else its git source; with `reuseLastUpload` (pipeline deploys)
 *   the newest uploaded context when neither is set. `ref` overrides `build_ref` (webhook pushes).
 */
export type BuildSource = { kind: "upload"; context: StoredContext } | { kind: "auto"; reuseLastUpload?: boolean; ref?: string };

export const NOTHING_TO_BUILD =
  "Nothing to build: send the build context as a tar or tar.gz body (Content-Type: application/x-tar or application/gzip), or set the service's git_url, github_repository or image.";

const namesOf = (a: ServiceAccess) => ({ org: a.org.slug, project: a.project.slug, env: a.env.slug, service: a.service.slug });

/** Creates the image row (next version) and its build job; the worker runs it. */
export function enqueueBuild(deps: Deps, access: ServiceAccess, source: BuildSource): { image: repo.ImageRow; job: JobRow } {
  const svc = access.service;
  const imageId = newId();
  let payload: BuildPayload;
  let buildRef: string | null = null;
  if (source.kind === "upload") {
    payload = { imageId, source: "upload", contextPath: adoptContext(deps, svc.id, source.context.path, imageId) };
  } else if (svc.image) {
    payload = { imageId, source: "image", sourceImage: svc.image };
    buildRef = svc.image;
  } else if (gitSourceUrl(svc)) {
    buildRef = source.ref ?? svc.buildRef ?? null;
    payload = { imageId, source: "git", gitUrl: gitSourceUrl(svc)!, ref: buildRef };
  } else {
    const last = source.reuseLastUpload ? repo.latestUpload(deps.db, svc.id) : undefined;
    const path = last && reuseContext(deps, svc.id, last.id, imageId);
    if (!last || !path) throw new Unprocessable(NOTHING_TO_BUILD);
    payload = { imageId, source: "upload", contextPath: path };
  }
  const now = isoNow(deps);
  return deps.db.transaction((tx) => {
    const version = repo.nextVersion(tx as never, svc.id);
    const image = repo.insertImage(tx as never, {
      id: imageId,
      serviceId: svc.id,
      version,
      status: "queued",
      source: payload.source,
      buildRef,
      repositoryName: repositoryName(namesOf(access)),
      tag: versionTag(version),
      createdAt: now,
      updatedAt: now,
    });
    const job = enqueueJob(deps, { serviceId: svc.id, kind: BUILD_JOB, payload: payload as unknown as Record<string, unknown> }, tx as never);
    return { image, job };
  });
}

/** Keeps the newest uploaded context and those of builds still to run; deletes the rest. */
export function tidyContexts(deps: Deps, serviceId: string): void {
  const rows = repo.imageStates(deps.db, serviceId);
  const keep = new Set(rows.filter((r) => r.status === "queued" || r.status === "running").map((r) => r.id));
  const newestUpload = rows.find((r) => r.source === "upload" && r.status !== "queued" && r.status !== "running");
  if (newestUpload) keep.add(newestUpload.id);
  pruneContexts(deps, serviceId, keep);
}

export function toSummary(row: repo.ImageRow) {
  return {
    id: row.id,
    version: row.version,
    application_id: row.serviceId,
    repository_name: row.repositoryName,
    built: row.status === "complete",
    error: row.status === "error",
    status: row.status,
    created: row.createdAt,
    updated: row.updatedAt,
  };
}

export function toDetail(row: repo.ImageRow) {
  return {
    ...toSummary(row),
    image_id: row.dockerImageId,
    error_detail: row.errorDetail,
    build_slug: `${row.repositoryName}:${row.tag}`,
    build_ref: row.buildRef,
    dockerfile: row.dockerfile,
    procfile: row.procfile,
    processes: row.processes,
    image_metadata: row.imageMetadata,
    commit_sha: row.commitSha,
    tag: row.tag,
    source: row.source,
    size_bytes: row.sizeBytes,
    started_at: row.startedAt,
    finished_at: row.finishedAt,
  };
}

export function listImages(deps: Deps, access: ServiceAccess, q: PageQuery) {
  const { rows, total } = repo.pageImages(deps.db, access.service.id, q.per_page, offsetOf(q));
  return pageOf(rows.map(toSummary), total, q);
}

/** An image the caller may see: by id (reference family). */
export function imageById(deps: Deps, actor: Actor | null, imageId: string): repo.ImageRow {
  const row = isUuid(imageId) ? repo.findImage(deps.db, imageId) : undefined;
  if (!row) {
    requireUser(actor); // anonymous callers get 401 before any 404
    throw new NotFound("Image");
  }
  try {
    serviceAccessById(deps, actor, row.serviceId);
  } catch (e) {
    if (e instanceof NotFound) throw new NotFound("Image");
    throw e;
  }
  return row;
}

export function imageByVersion(deps: Deps, access: ServiceAccess, version: number): repo.ImageRow {
  const row = repo.findImageByVersion(deps.db, access.service.id, version);
  if (!row) throw new NotFound("Image");
  return row;
}

const FINISHED = new Set(["complete", "error"]);

/** The build log as Server-Sent Events: stored lines from `after` (or Last-Event-ID), then live ones, then `end` with the outcome. */
export function imageLogEvents(deps: Deps, row: repo.ImageRow, req: Request, after = 0): Response {
  return storedLogEvents(req, deps.shutdown.signal, {
    key: repo.imageLogKey(row.id),
    after,
    read: (from) => repo.readLog(deps.db, row.id, from),
    finished: () => {
      const fresh = repo.findImage(deps.db, row.id);
      if (!fresh) return { status: "deleted" };
      return FINISHED.has(fresh.status) ? { status: fresh.status, version: fresh.version, error_detail: fresh.errorDetail } : null;
    },
  });
}

export function imageLog(deps: Deps, row: repo.ImageRow, after = 0) {
  const lines = repo.readLog(deps.db, row.id, after);
  const fresh = repo.findImage(deps.db, row.id) ?? row;
  return {
    status: fresh.status,
    version: fresh.version,
    log_text: lines.length ? lines.map((l) => l.line).join("\n") + "\n" : after ? "" : null,
    error: fresh.status === "error",
    error_detail: fresh.errorDetail,
    build_step: fresh.buildStep ?? null,
    last_line_id: lines.length ? lines[lines.length - 1]!.id : after,
  };
}

/** The `build` stage of pipeline status: the latest image of the service, or null without one. */
export function buildStageStatus(deps: Deps, serviceId: string): PipelineStageStatus | null {
  const row = repo.latestImage(deps.db, serviceId);
  if (!row) return null;
  return { id: row.id, status: row.status, version: row.version, error_detail: row.errorDetail, step: row.buildStep ?? null };
}

/** Latest image (detail object) and latest image versions for many services (one query). */
export const latestImageDetail = (deps: Deps, serviceId: string) => {
  const row = repo.latestImage(deps.db, serviceId);
  return row ? toDetail(row) : null;
};
export const latestImageVersions = (deps: Deps, serviceIds: string[]): Map<string, number> =>
  new Map(repo.latestVersionsOf(deps.db, serviceIds).map((r) => [r.serviceId, r.version ?? 0]));

/** Images with a build still queued or running (for status displays). */
export const activeBuilds = (deps: Deps, serviceId: string) => repo.unfinishedImages(deps.db, serviceId);
