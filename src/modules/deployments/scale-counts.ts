// process_counts of a scale: the request stores the new counts on the service at once (the
// reference API answers with them) and on its scale deployment (`metadata.scale`), which runs
// with exactly those. When that deployment fails or is interrupted, the old replicas keep
// running, so the service's counts go back to what runs — unless a later request changed them
// meanwhile (that request's own deployment decides then).
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import { updateService, type ServiceRow } from "../services/repo";
import { findRelease, latestRelease } from "../releases/repo";
import { findServiceById } from "../services/repo";
import * as repo from "./repo";

export type ScaleRequest = { process_counts: Record<string, number>; process_pod_classes: Record<string, string> };

/**
 * The process types a scale may name: the latest and the serving release's (its Procfile, or
 * `web`), and the ones the service already stores (so they can be scaled to 0). Null before the
 * first release: no Procfile is known yet, the counts wait for the first deploy.
 */
export function knownProcessTypes(deps: Deps, s: ServiceRow): { types: Set<string>; version: number } | null {
  const latest = latestRelease(deps.db, s.id);
  if (!latest) return null;
  const current = repo.currentDeployment(deps.db, s.id);
  const serving = current && current.releaseId !== latest.id ? findRelease(deps.db, current.releaseId) : undefined;
  return { types: new Set([...Object.keys(latest.processes), ...Object.keys(serving?.processes ?? {}), ...Object.keys(s.processCounts)]), version: latest.version };
}

/** The counts and pod classes a scale deployment asked for (null for other deployments). */
export function requestedScale(d: repo.DeploymentRow): ScaleRequest | null {
  const s = d.metadata.scale as Partial<ScaleRequest> | undefined;
  return d.kind === "scale" && s?.process_counts && s.process_pod_classes ? { process_counts: s.process_counts, process_pod_classes: s.process_pod_classes } : null;
}

const same = (a: Record<string, unknown>, b: Record<string, unknown>) => {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].every((k) => a[k] === b[k]);
};

/** Every key of `asked` (0 / unchanged when the serving set has none) with the serving value. */
function servingValues<T>(asked: Record<string, T>, serving: Record<string, T>, none: (k: string) => T): Record<string, T> {
  return { ...Object.fromEntries(Object.keys(asked).map((k) => [k, none(k)])), ...serving };
}

/** After a failed or interrupted scale: put the service's counts back to the serving deployment's. Returns what it wrote. */
export function restoreCountsAfterScale(deps: Deps, d: repo.DeploymentRow): ScaleRequest | null {
  const asked = requestedScale(d);
  const service = findServiceById(deps.db, d.serviceId);
  if (!asked || !service) return null;
  if (!same(service.processCounts, asked.process_counts) || !same(service.processPodClasses, asked.process_pod_classes)) return null;
  const current = repo.currentDeployment(deps.db, d.serviceId)?.metadata;
  if (!current?.process_counts) return null;
  const restored = {
    process_counts: servingValues(asked.process_counts, current.process_counts, () => 0),
    process_pod_classes: servingValues(asked.process_pod_classes, current.process_pod_classes ?? {}, (k) => asked.process_pod_classes[k]!),
  };
  updateService(deps.db, service.id, { processCounts: restored.process_counts, processPodClasses: restored.process_pod_classes, updatedAt: isoNow(deps) });
  const text = Object.entries(restored.process_counts).map(([p, n]) => `${p}=${n}`).join(", ");
  repo.appendLog(deps.db, d.id, `process_counts restored to what runs: ${text}`, isoNow(deps));
  return restored;
}
