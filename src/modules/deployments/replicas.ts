// What is known about each replica of a service's serving deployment: the reconciler's last
// observation of its container (kept in memory per server, refreshed from Docker events) joined
// with what the deployment recorded. The API, CLI and dashboard show this, so a dead replica is
// visible as such instead of hiding behind process_counts.
import type { Deps } from "../../deps";
import type { ReplicaRecord } from "../../db/schema";
import { isWebProcess, supervisedTarget, type ReplicaEvent } from "../../targets/target";
import { findEnvById } from "../envs/repo";
import { findServiceById, type ServiceRow } from "../services/repo";
import { findRelease, type ReleaseRow } from "../releases/repo";
import type { ReplicaView } from "./model";
import { clusterReplicaViews } from "./cluster-replicas";
import * as repo from "./repo";

export type Serving = { service: ServiceRow; current: repo.DeploymentRow; release: ReleaseRow };

/** The serving deployment of a supervised (Docker) service, "busy" while a rollout runs, "gone" when nothing serves. */
export function servingOf(deps: Deps, serviceId: string): Serving | "busy" | "gone" {
  const service = findServiceById(deps.db, serviceId);
  const env = service && findEnvById(deps.db, service.envId);
  if (!service || !env || !supervisedTarget(deps, env)) return "gone";
  if (repo.unfinished(deps.db, [serviceId]).length) return "busy";
  const current = repo.currentDeployment(deps.db, serviceId);
  const release = current && findRelease(deps.db, current.releaseId);
  return current && release ? { service, current, release } : "gone";
}

export type ReplicaStateName = ReplicaView["state"];

/** One replica slot (service, process, replica number): survives its container being replaced. */
export type Slot = {
  containerId: string;
  state: ReplicaStateName;
  exitCode: number | null;
  /** Docker's restart count of the current container (its restart policy) */
  dockerRestarts: number;
  lastExitAt: string | null;
  /** when the observed container last started (uptime) */
  startedAt: string | null;
  hostPort: number | null;
  inRotation: boolean;
  lastError: string | null;
  /** backoff: restart attempts by Ancla since the replica last stayed up, and when the next may run */
  attempts: number;
  lastAttemptAt: number;
  healedAt: number;
  nextAttemptAt: number | null;
  healing: boolean;
  /** failed health probes since it (re)started; spaces out the next probe */
  probeFailures: number;
};

// One store per server (per database), like the route table: no imported singleton state.
const stores = new WeakMap<object, Map<string, Slot>>();
export function slotsOf(deps: { db: object }): Map<string, Slot> {
  let s = stores.get(deps.db);
  if (!s) stores.set(deps.db, (s = new Map()));
  return s;
}

export const slotKey = (serviceId: string, process: string, replica: number) => `${serviceId}\u0000${process}\u0000${replica}`;

const freshSlot = (r: ReplicaRecord, state: ReplicaStateName, inRotation: boolean): Slot => ({
  containerId: r.id,
  state,
  exitCode: null,
  dockerRestarts: 0,
  lastExitAt: null,
  startedAt: null,
  hostPort: r.hostPort,
  inRotation,
  lastError: null,
  attempts: 0,
  lastAttemptAt: 0,
  healedAt: 0,
  nextAttemptAt: null,
  healing: false,
  probeFailures: 0,
});

export function slotFor(deps: { db: object }, serviceId: string, r: ReplicaRecord): Slot {
  const slots = slotsOf(deps);
  const key = slotKey(serviceId, r.process, r.replica);
  let slot = slots.get(key);
  if (!slot) slots.set(key, (slot = freshSlot(r, "unknown", false)));
  return slot;
}

/**
 * A rollout just committed: its new replicas passed the health gate and web ones took traffic, so
 * they are shown running at once (not "unknown" until the next pass); their slots start over.
 */
export function seedSlots(deps: { db: object }, serviceId: string, serving: ReplicaRecord[], deploymentId: string): void {
  forgetSlots(deps, serviceId, serving);
  for (const r of serving) {
    if (r.deploymentId === deploymentId) slotsOf(deps).set(slotKey(serviceId, r.process, r.replica), freshSlot(r, "running", isWebProcess(r.process)));
  }
}

/** A die event carries the exit code, which Docker forgets once the container runs again. */
export function noteExit(deps: { db: object }, e: ReplicaEvent): void {
  const slot = slotsOf(deps).get(slotKey(e.serviceId ?? "", e.process ?? "", Number(e.replica)));
  if (!slot || slot.containerId !== e.id || e.exitCode === null) return;
  slot.exitCode = e.exitCode;
  slot.lastExitAt = new Date(e.time).toISOString();
}

/** Drop the slots of services that no longer exist. */
export function pruneSlots(deps: { db: object }, serviceIds: Set<string>): void {
  const slots = slotsOf(deps);
  for (const key of slots.keys()) if (!serviceIds.has(key.slice(0, key.indexOf("\u0000")))) slots.delete(key);
}

/** Drop the slots of a service that are not in `keep` (scaled down, redeployed, deleted). */
export function forgetSlots(deps: { db: object }, serviceId: string, keep: ReplicaRecord[] = []): void {
  const wanted = new Set(keep.map((r) => slotKey(serviceId, r.process, r.replica)));
  const prefix = serviceId + "\u0000";
  const slots = slotsOf(deps);
  for (const key of slots.keys()) if (key.startsWith(prefix) && !wanted.has(key)) slots.delete(key);
}

const iso = (ms: number | null) => (ms ? new Date(ms).toISOString() : null);

/** The replicas of the service's serving deployment, in process and replica order. */
export function replicaViews(deps: Deps, serviceId: string): ReplicaView[] {
  const records = [...(repo.currentDeployment(deps.db, serviceId)?.metadata.replicas ?? [])].sort((a, b) =>
    a.process < b.process ? -1 : a.process > b.process ? 1 : a.replica - b.replica,
  );
  if (!records.length) return [];
  // a cluster's replicas are its pods (targets that heal themselves have no slots)
  const service = findServiceById(deps.db, serviceId);
  const env = service && findEnvById(deps.db, service.envId);
  if (env && !supervisedTarget(deps, env)) return clusterReplicaViews(deps, env, serviceId, records);
  const slots = slotsOf(deps);
  return records
    .map((r) => {
      const s = slots.get(slotKey(serviceId, r.process, r.replica));
      // a slot observing another container than the record is stale until the next pass
      const seen = s && s.containerId === r.id ? s : undefined;
      const ancla = r.restarts ?? 0;
      const docker = seen?.dockerRestarts ?? 0;
      return {
        process: r.process,
        replica: r.replica,
        container_id: r.id.slice(0, 12),
        state: seen?.state ?? "unknown",
        exit_code: seen?.exitCode ?? null,
        restart_count: ancla + docker,
        ancla_restarts: ancla,
        docker_restarts: docker,
        last_exit_at: seen?.lastExitAt ?? null,
        started_at: seen?.startedAt ?? null,
        host_port: isWebProcess(r.process) ? (seen?.hostPort ?? r.hostPort) : null,
        in_rotation: isWebProcess(r.process) ? (seen?.inRotation ?? false) : null,
        last_error: s?.lastError ?? null,
        next_attempt_at: iso(s?.nextAttemptAt ?? null),
      };
    });
}
