// The serving release of a service as a target runs it (image, opened config, volumes): what a
// one-off run and the volume helpers start from.
import type { Deps } from "../../deps";
import { Conflict } from "../../errors";
import { targetFor, TargetUnavailable, type DeployTarget, type ReleaseRun } from "../../targets/target";
import type { ServiceAccess } from "../services/access";
import { findRelease, latestRelease, type ReleaseRow } from "../releases/repo";
import { currentDeployment } from "../deployments/repo";
import { openConfig, releaseRunOf } from "../deployments/replica-plan";

export const serviceRef = (access: ServiceAccess) => ({
  org: access.org.slug,
  project: access.project.slug,
  env: access.env.slug,
  service: access.service.slug,
  serviceId: access.service.id,
  projectId: access.project.id,
});

/** The release serving now, else (for volumes) the latest one; 409 when there is none. */
export function servingRelease(deps: Deps, access: ServiceAccess, orLatest = false): ReleaseRow {
  const current = currentDeployment(deps.db, access.service.id);
  const release = (current && findRelease(deps.db, current.releaseId)) || (orLatest ? latestRelease(deps.db, access.service.id) : undefined);
  if (!release) throw new Conflict(orLatest ? "This service has no release yet; deploy it first." : "This service has no deployed release yet; deploy it first.");
  return release;
}

export function releaseRun(deps: Deps, access: ServiceAccess, release: ReleaseRow, deploymentId: string): ReleaseRun & { secretValues: string[] } {
  const opened = openConfig(deps, release.config);
  return { ...releaseRunOf(deps, access, release, deploymentId, opened.vars), secretValues: opened.secretValues };
}

/** The environment's target; 409 with the reason when this server cannot reach it or it lacks `feature`. */
export function capableTarget<K extends "runOnce" | "exec" | "volumes">(deps: Deps, access: ServiceAccess, feature: K, what: string): DeployTarget & Required<Pick<DeployTarget, K>> {
  let target: DeployTarget;
  try {
    target = targetFor(deps, access.env);
  } catch (e) {
    if (e instanceof TargetUnavailable) throw new Conflict(e.message);
    throw e;
  }
  if (!target[feature]) throw new Conflict(`${what} is not supported on a ${target.kind} environment yet.`);
  return target as DeployTarget & Required<Pick<DeployTarget, K>>;
}
