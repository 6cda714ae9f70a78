// The latest image / release / deployment of a service, as shown in ApplicationSummary and
// ApplicationDetail. The images, releases and deployments tables are being added by the
// pipeline work; until they exist every service has no activity, so these return nulls.
// Fill both functions in when those tables land (keep latestVersions to one query per table:
// the application list must not issue a query per service).
import type { Deps } from "../../deps";
import { latestImageDetail, latestImageVersions } from "../images/service";
import { latestReleaseDetail, latestReleaseVersions } from "../releases/service";
import { latestDeploymentComplete, latestDeploymentDetail } from "../deployments/service";
import { findServiceById } from "./repo";

export type LatestActivity = {
  latest_image: Record<string, unknown> | null;
  latest_release: Record<string, unknown> | null;
  latest_deployment: Record<string, unknown> | null;
};

export type LatestVersions = {
  latest_image_version: number | null;
  latest_release_version: number | null;
  latest_deployment_complete: boolean | null;
};

const NONE: LatestVersions = { latest_image_version: null, latest_release_version: null, latest_deployment_complete: null };

/** Latest image, release and deployment objects of one service (detail views). */
export function latestActivity(deps: Deps, serviceId: string): LatestActivity {
  const platform = findServiceById(deps.db, serviceId)?.platform ?? "wind";
  return {
    latest_image: latestImageDetail(deps, serviceId),
    latest_release: latestReleaseDetail(deps, serviceId, platform),
    latest_deployment: latestDeploymentDetail(deps, serviceId, platform),
  };
}

/** Latest versions for many services at once (list views), keyed by service id. */
export function latestVersions(deps: Deps, serviceIds: string[]): Map<string, LatestVersions> {
  const images = latestImageVersions(deps, serviceIds);
  const releases = latestReleaseVersions(deps, serviceIds);
  const deployed = latestDeploymentComplete(deps, serviceIds);
  return new Map(
    serviceIds.map((id) => [
      id,
      { ...NONE, latest_image_version: images.get(id) ?? null, latest_release_version: releases.get(id) ?? null, latest_deployment_complete: deployed.get(id) ?? null },
    ]),
  );
}
