// The latest image, release and deployment of services, as ServiceDetail and ApplicationSummary
// show them (the services module asks for them through its hooks: it sits below all three). The
// list form issues one query per table, never one per service.
import type { Deps } from "../../deps";
import { latestImageDetail, latestImageVersions } from "../images/service";
import { latestReleaseDetail, latestReleaseVersions } from "../releases/service";
import { latestDeploymentComplete, latestDeploymentDetail } from "../deployments/service";
import { findServiceById } from "../services/repo";
import type { LatestActivity, LatestVersions } from "../services/model";

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
      { latest_image_version: images.get(id) ?? null, latest_release_version: releases.get(id) ?? null, latest_deployment_complete: deployed.get(id) ?? null },
    ]),
  );
}
