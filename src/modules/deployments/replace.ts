// Bring one dead replica of the serving deployment back (through the local target's supervision):
// start it again when it still exists, else adopt a running replica of the same slot that nothing
// records, else start a new one from the same release and plan. Only a ready replica is recorded (in the
// deployment's metadata, with its restart counted); when a rollout began meanwhile, whatever
// was started here is removed again: the rollout decides what serves.
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import type { ReplicaRecord } from "../../db/schema";
import { isWebProcess, type ReadyCheck } from "../../targets/target";
import { replacementPlan } from "./replica-plan";
import { servingOf } from "./replicas";
import * as repo from "./repo";

export type HealRequest = {
  serviceId: string;
  deploymentId: string;
  record: ReplicaRecord;
  /** the container still exists (exited) */
  exists: boolean;
  attempt: number;
  signal: AbortSignal;
  /** what happened to it, for the deployment log */
  why: string;
};

export type HealOutcome = { ok: true; id: string; how: "restarted" | "adopted" | "replaced" } | { ok: false; error: string | null };

// a restart that takes longer than this is retried later rather than holding the slot
const MAX_READY_MS = 120_000;

/**
 * Swap the record of `oldId` for `patch` in the serving deployment's metadata, if that
 * deployment still serves and no rollout is pending (one synchronous step: no await between
 * the check and the write, so a rollout starting now sees the new record).
 */
function rewriteRecord(deps: Deps, req: HealRequest, patch: Partial<ReplicaRecord>, countRestart: boolean): boolean {
  const serving = servingOf(deps, req.serviceId);
  if (typeof serving === "string" || serving.current.id !== req.deploymentId) return false;
  const meta = serving.current.metadata;
  const replicas = (meta.replicas ?? []).map((r) => (r.id === req.record.id ? { ...r, ...patch, restarts: (r.restarts ?? 0) + (countRestart ? 1 : 0) } : r));
  repo.updateDeployment(deps.db, req.deploymentId, { metadata: { ...meta, replicas } });
  const label = `${req.record.process} replica ${req.record.replica}`;
  const id = (patch.id ?? req.record.id).slice(0, 12);
  repo.appendLog(deps.db, req.deploymentId, `${label} ${req.why}; ${countRestart ? (patch.id ? "replaced" : "restarted") : "adopted"} by Ancla (container ${id})`, isoNow(deps));
  return true;
}

/** A running container of the same slot and release that the record does not name (recreated outside Ancla). */
async function adoptable(deps: Deps, req: HealRequest): Promise<string | null> {
  const r = req.record;
  const found = await deps.targets.local.findReplicas({ serviceId: req.serviceId, releaseId: r.releaseId, process: r.process, replica: r.replica });
  const busy = new Set(repo.unfinished(deps.db, [req.serviceId]).map((d) => d.id));
  const recorded = new Set((repo.findDeployment(deps.db, req.deploymentId)?.metadata.replicas ?? []).map((x) => x.id));
  return found.find((c) => c.running && !recorded.has(c.id) && !busy.has(c.deploymentId ?? ""))?.id ?? null;
}

export async function healReplica(deps: Deps, req: HealRequest): Promise<HealOutcome> {
  const serving = servingOf(deps, req.serviceId);
  if (typeof serving === "string" || serving.current.id !== req.deploymentId) return { ok: false, error: null };
  const { service, release } = serving;
  const target = deps.targets.local; // servingOf answers only for services Ancla supervises
  const check: ReadyCheck = {
    port: release.port,
    web: isWebProcess(req.record.process),
    healthCheckPath: release.healthCheckPath,
    healthCheckHost: release.healthCheckHost,
    timeoutMs: Math.min(service.deploymentTimeout * 1000, MAX_READY_MS),
    signal: req.signal,
  };
  if (req.exists) {
    let startError: string | null = null;
    await target.supervision.startReplica(req.record.id).catch((e) => (startError = (e as Error).message));
    if (!startError) {
      const hostPort = await target.supervision.waitReady(req.record.id, check);
      return rewriteRecord(deps, req, { hostPort }, true) ? { ok: true, id: req.record.id, how: "restarted" } : { ok: false, error: null };
    }
    // it cannot start any more (removed network, dead state…): a new container takes its place
    await target.removeReplicas([req.record.id], 1);
  }
  const adopt = await adoptable(deps, req);
  if (adopt) {
    const hostPort = await target.supervision.waitReady(adopt, check);
    return rewriteRecord(deps, req, { id: adopt, hostPort }, false) ? { ok: true, id: adopt, how: "adopted" } : { ok: false, error: null };
  }
  const plan = replacementPlan(deps, service, release, req.record, req.attempt);
  if (!plan) return { ok: false, error: null };
  const fresh = await target.supervision.replaceReplica(plan, check);
  if (rewriteRecord(deps, req, { id: fresh.id, hostPort: fresh.hostPort }, true)) return { ok: true, id: fresh.id, how: "replaced" };
  await target.removeReplicas([fresh.id], 1);
  return { ok: false, error: null };
}
