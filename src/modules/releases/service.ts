// Releases: immutable image + processes + resolved config snapshots (secrets stay sealed), their
// changes against the previous release, and the reference-contract views of them.
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import { Conflict, NotFound } from "../../errors";
import { newId } from "../../lib/ids";
import { offsetOf, pageOf, type PageQuery } from "../../lib/pagination";
import type { ReleaseConfigVar } from "../../db/schema";
import { resolveServiceRows } from "../config-vars/resolve";
import { SECRET_MASK } from "../config-vars/resolve";
import { serviceAccessById, type ServiceAccess } from "../services/access";
import { requireUser, type Actor } from "../auth/service";
import * as repo from "./repo";
import type { PipelineStageStatus } from "../images/model";
import type { ImageRow, ReleaseRow } from "./repo";

export type { ReleaseRow };

/** What a release runs; from a built image, or copied from another release (promotions). */
export type ReleaseImage = {
  imageId: string | null;
  imageVersion: number | null;
  imageRef: string;
  repositoryName: string;
  tag: string | null;
  processes: Record<string, string | null>;
  commitSha: string | null;
  dockerfile: string | null;
};

export type CreateReleaseOptions = {
  /** A specific built image of the service; default: its latest built image. */
  imageId?: string;
  /** Run exactly this image (promotion of another environment's release). */
  image?: ReleaseImage;
  /** One extra line for the release log (e.g. "promoted from staging v3"). */
  note?: string;
};

export function imageOfRow(img: ImageRow): ReleaseImage {
  return {
    imageId: img.id,
    imageVersion: img.version,
    // the content id never changes under a re-tag; the tag is the fallback
    imageRef: img.dockerImageId || `${img.repositoryName}:${img.tag}`,
    repositoryName: img.repositoryName,
    tag: img.tag,
    processes: img.processes && Object.keys(img.processes).length ? img.processes : { web: null },
    commitSha: img.commitSha,
    dockerfile: img.dockerfile,
  };
}

export const imageOfRelease = (r: ReleaseRow): ReleaseImage => ({
  imageId: r.imageId,
  imageVersion: r.imageVersion,
  imageRef: r.imageRef,
  repositoryName: r.repositoryName,
  tag: r.tag,
  processes: r.processes,
  commitSha: r.commitSha,
  dockerfile: r.dockerfile,
});

function pickImage(deps: Deps, serviceId: string, opts: CreateReleaseOptions): ReleaseImage {
  if (opts.image) return opts.image;
  if (opts.imageId) {
    const img = repo.findImage(deps.db, opts.imageId);
    if (!img || img.serviceId !== serviceId) throw new NotFound("Image");
    if (img.status !== "complete" || img.pruned) throw new Conflict(`Image v${img.version} is not a usable built image (status ${img.status}).`);
    return imageOfRow(img);
  }
  const img = repo.latestBuiltImage(deps.db, serviceId);
  if (!img) throw new Conflict("This service has no built image yet; build one first (POST /api/v1/images/{application_id}/build).");
  return imageOfRow(img);
}

/**
 * Retention removes old images from Docker and marks their rows `pruned` (images/retention.ts);
 * a release of such an image can never start again. Every route that deploys a given release
 * (rollbacks, redeploys, promotions) asks here first, so it answers 409 instead of queueing a
 * deployment that fails later with Docker's "No such image".
 */
export function assertReleaseImageKept(deps: Deps, release: Pick<ReleaseRow, "version" | "imageId">): void {
  const img = release.imageId ? repo.findImage(deps.db, release.imageId) : undefined;
  if (img?.pruned) {
    throw new Conflict(`Release v${release.version} cannot be deployed: image v${img.version} was removed by retention (keep_images). Build the service again, or deploy a newer release.`);
  }
}

/** Names added/removed/changed between two snapshots; values only for non-secret variables. */
export function configurationChanges(prev: ReleaseConfigVar[] | null, next: ReleaseConfigVar[], open: (sealed: string) => string): Record<string, unknown> {
  const before = new Map((prev ?? []).map((v) => [v.name, v]));
  const after = new Map(next.map((v) => [v.name, v]));
  const plain = (v: ReleaseConfigVar): string => {
    if (!v.secret) return v.value;
    try {
      return open(v.value);
    } catch {
      return v.value; // unreadable: compare the sealed tokens
    }
  };
  const added: string[] = [];
  const removed: string[] = [];
  const changed: string[] = [];
  const values: Record<string, { from?: string; to?: string }> = {};
  for (const [name, v] of after) {
    const old = before.get(name);
    if (!old) {
      added.push(name);
      if (!v.secret) values[name] = { to: v.value };
    } else if (old.secret !== v.secret || plain(old) !== plain(v)) {
      changed.push(name);
      if (!old.secret && !v.secret) values[name] = { from: old.value, to: v.value };
    }
  }
  for (const [name, v] of before) {
    if (!after.has(name)) {
      removed.push(name);
      if (!v.secret) values[name] = { from: v.value };
    }
  }
  return { added, removed, changed, values };
}

export function imageChanges(prev: ReleaseRow | null, next: ReleaseImage): Record<string, unknown> {
  if (!prev) return { changed: true, from: null, to: { version: next.imageVersion, ref: next.imageRef } };
  const changed = prev.imageRef !== next.imageRef;
  const procBefore = Object.keys(prev.processes).sort();
  const procAfter = Object.keys(next.processes).sort();
  return {
    changed,
    from: { version: prev.imageVersion, ref: prev.imageRef },
    to: { version: next.imageVersion, ref: next.imageRef },
    processes_added: procAfter.filter((p) => !procBefore.includes(p)),
    processes_removed: procBefore.filter((p) => !procAfter.includes(p)),
  };
}

/** Snapshot the service's image and resolved config into a new release (versions never reused). */
export function createRelease(deps: Deps, access: ServiceAccess, opts: CreateReleaseOptions = {}): ReleaseRow {
  const service = access.service;
  const image = pickImage(deps, service.id, opts);
  // secrets come out of the config rows still sealed: the snapshot never holds plaintext
  const config: ReleaseConfigVar[] = resolveServiceRows(deps, service.id).map((r) => ({ name: r.name, value: r.value, secret: r.secret, scope: r.scope }));
  const now = isoNow(deps);
  return deps.db.transaction((tx) => {
    const prev = repo.latestRelease(tx as never, service.id) ?? null;
    const version = (prev?.version ?? 0) + 1;
    const secrets = config.filter((v) => v.secret).length;
    const log = [
      ...(opts.note ? [opts.note] : []),
      `Release v${version}: image ${image.imageVersion ? `v${image.imageVersion} ` : ""}(${image.repositoryName}${image.tag ? ":" + image.tag : ""})`,
      `Processes: ${Object.keys(image.processes).sort().join(", ")}`,
      `Configuration: ${config.length} variable(s), ${secrets} secret`,
    ].join("\n");
    return repo.insertRelease(tx as never, {
      id: newId(),
      serviceId: service.id,
      version,
      status: "complete",
      imageId: image.imageId,
      imageVersion: image.imageVersion,
      imageRef: image.imageRef,
      repositoryName: image.repositoryName,
      tag: image.tag,
      commitSha: image.commitSha,
      dockerfile: image.dockerfile,
      processes: image.processes,
      config,
      port: service.port,
      healthCheckPath: service.healthCheckPath,
      healthCheckHost: service.healthCheckHost,
      imageChanges: imageChanges(prev, image),
      configurationChanges: configurationChanges(prev?.config ?? null, config, (s) => deps.secrets.open(s)),
      releaseMetadata: { processes: image.processes, port: service.port, source_release: null },
      errorDetail: null,
      log,
      createdAt: now,
      updatedAt: now,
    });
  });
}

export type ReleaseSummaryRow = Pick<ReleaseRow, "id" | "version" | "serviceId" | "status" | "createdAt" | "updatedAt">;

export function toReleaseSummary(r: ReleaseSummaryRow, platform: string) {
  return {
    id: r.id,
    version: r.version,
    application_id: r.serviceId,
    platform,
    built: r.status === "complete",
    error: r.status === "error",
    created: r.createdAt,
    updated: r.updatedAt,
  };
}

export function toReleaseDetail(r: ReleaseRow, platform: string) {
  return {
    ...toReleaseSummary(r, platform),
    repository_name: r.repositoryName,
    release_id: r.id,
    image: {
      id: r.imageId,
      version: r.imageVersion,
      repository_name: r.repositoryName,
      tag: r.tag,
      ref: r.imageRef,
      processes: r.processes,
    },
    configuration: Object.fromEntries(r.config.map((v) => [v.name, v.secret ? SECRET_MASK : v.value])),
    image_changes: r.imageChanges,
    configuration_changes: r.configurationChanges,
    error_detail: r.errorDetail,
    dockerfile: r.dockerfile,
    release_metadata: r.releaseMetadata ?? null,
    commit_sha: r.commitSha,
    health_check_path: r.healthCheckPath,
    health_check_host: r.healthCheckHost,
  };
}

export function toReleaseLog(r: ReleaseRow) {
  return { status: r.status, version: r.version, log_text: r.log, error: r.status === "error", error_detail: r.errorDetail, build_step: null };
}

export function listReleasePage(deps: Deps, access: ServiceAccess, q: PageQuery) {
  const rows = repo.listReleases(deps.db, access.service.id, q.per_page, offsetOf(q));
  return pageOf(rows.map((r) => toReleaseSummary(r, access.service.platform)), repo.countReleases(deps.db, access.service.id), q);
}

/** A release by its id with its service's access; 404 unless the caller may see it (401 first without credentials). */
export function releaseAccessById(deps: Deps, actor: Actor | null, id: string): { release: ReleaseRow; access: ServiceAccess } {
  const release = repo.findRelease(deps.db, id);
  if (!release) {
    requireUser(actor);
    throw new NotFound("Release");
  }
  try {
    return { release, access: serviceAccessById(deps, actor, release.serviceId) };
  } catch (e) {
    throw e instanceof NotFound ? new NotFound("Release") : e;
  }
}

export function releaseByVersion(deps: Deps, access: ServiceAccess, version: number): ReleaseRow {
  const r = repo.findReleaseByVersion(deps.db, access.service.id, version);
  if (!r) throw new NotFound("Release");
  return r;
}

/** Latest release's stage status for the pipeline views; null when the service has none. */
export function releaseStageStatus(deps: Deps, serviceId: string): PipelineStageStatus | null {
  const r = repo.latestRelease(deps.db, serviceId);
  if (!r) return null;
  return { id: r.id, status: r.status, version: r.version, error_detail: r.errorDetail, step: null };
}

/** The latest release of a service as ReleaseDetail (ApplicationDetail.latest_release). */
export function latestReleaseDetail(deps: Deps, serviceId: string, platform: string) {
  const r = repo.latestRelease(deps.db, serviceId);
  return r ? toReleaseDetail(r, platform) : null;
}

export const latestReleaseVersions = (deps: Deps, serviceIds: string[]): Map<string, number> =>
  new Map(repo.latestVersionsOf(deps.db, serviceIds).map((r) => [r.serviceId, r.version ?? 0]));
