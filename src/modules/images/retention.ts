// Disk hygiene: keep the newest `keep_images` complete images of a service, and the images of its
// newest `keep_images` releases (so those stay valid rollback targets); remove older ones the
// platform created (label-checked, never forced — an image a container still uses stays).
import { isoNow, type Deps } from "../../deps";
import type { ServiceNames } from "../../lib/image-names";
import { removeServiceImage } from "../../targets/docker/build";
import * as repo from "./repo";

export async function applyRetention(deps: Deps, service: { id: string; keepImages: number }, names: ServiceNames, log: (line: string) => void = () => {}): Promise<number> {
  let removed = 0;
  const releasedIds = new Set(repo.imageIdsOfRecentReleases(deps.db, service.id, service.keepImages));
  for (const old of imagesToPrune(repo.completeImages(deps.db, service.id), service.keepImages)) {
    if (releasedIds.has(old.id)) continue;
    const ref = `${old.repositoryName}:${old.tag}`;
    if (await removeServiceImage(deps.docker, ref, names, old.dockerImageId)) {
      repo.updateImage(deps.db, old.id, { pruned: true, updatedAt: isoNow(deps) });
      log(`removed old image ${ref} (keeping the newest ${service.keepImages})`);
      removed++;
    } else log(`kept old image ${ref}: it is in use or not created by Ancla`);
  }
  return removed;
}

/** Which images to remove: all but the newest `keep` (at least 1) complete versions, oldest first. */
export function imagesToPrune<T extends { version: number }>(complete: T[], keep: number): T[] {
  const sorted = [...complete].sort((a, b) => a.version - b.version);
  return sorted.slice(0, Math.max(0, sorted.length - Math.max(keep, 1))); // the newest build always stays
}
