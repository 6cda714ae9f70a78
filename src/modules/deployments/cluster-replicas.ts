// Replicas of a service on a cluster, as the API, CLI and dashboard show them. The cluster heals
// its pods itself (no supervision, no slots), so each serving replica is matched to a pod and
// shown with the pod's state — running and ready, restarts, last exit. The pods are read again in
// the background whenever someone looks (at most every few seconds per service); a view answers
// from the latest observation ("unknown" before the first).
import type { Deps } from "../../deps";
import type { ReplicaRecord } from "../../db/schema";
import { isWebProcess, targetFor, TargetUnavailable, type FoundReplica, type ReplicaState, type TargetEnv } from "../../targets/target";
import type { ReplicaView } from "./model";
import * as repo from "./repo";

const MIN_INTERVAL_MS = 3000;
type Observation = { pod: string; state: ReplicaView["state"]; s: ReplicaState | null };
const observed = new WeakMap<object, Map<string, { at: number; byReplica: Map<string, Observation> }>>();
const key = (process: string, replica: number) => `${process}\u0000${replica}`;

function stateName(found: FoundReplica | undefined, s: ReplicaState | null): ReplicaView["state"] {
  if (!found || !s) return "missing";
  if (s.restarting) return "restarting";
  if (s.running) return s.health === "healthy" ? "running" : "starting";
  return s.status === "exited" ? "exited" : "starting";
}

function storeOf(deps: Deps) {
  let m = observed.get(deps.db);
  if (!m) observed.set(deps.db, (m = new Map()));
  return m;
}

/** Read the service's pods now; an error keeps the last observation (the cluster may be unreachable for a moment). */
export async function observeClusterReplicas(deps: Deps, env: TargetEnv, serviceId: string): Promise<void> {
  const records = repo.currentDeployment(deps.db, serviceId)?.metadata.replicas ?? [];
  let target;
  try {
    target = targetFor(deps, env);
  } catch (e) {
    if (e instanceof TargetUnavailable) return;
    throw e;
  }
  const pods = await target.findReplicas({ serviceId });
  const byReplica = new Map<string, Observation>();
  for (const r of records) {
    const pod = pods.find((p) => p.process === r.process && p.replica === r.replica);
    const s = pod ? await target.inspectReplica(pod.id, 0).catch(() => null) : null;
    byReplica.set(key(r.process, r.replica), { pod: pod?.id ?? "", state: stateName(pod, s), s });
  }
  storeOf(deps).set(serviceId, { at: Date.now(), byReplica });
}

/** The serving replicas of a cluster service with their pods' last observed state; starts a refresh when due. */
export function clusterReplicaViews(deps: Deps, env: TargetEnv, serviceId: string, records: ReplicaRecord[]): ReplicaView[] {
  const store = storeOf(deps);
  const last = store.get(serviceId);
  if (!last || Date.now() - last.at >= MIN_INTERVAL_MS) {
    store.set(serviceId, { at: Date.now(), byReplica: last?.byReplica ?? new Map() }); // one refresh at a time
    void observeClusterReplicas(deps, env, serviceId).catch((e) => deps.logger.debug("cluster replica refresh failed", { service: serviceId, error: (e as Error).message }));
  }
  return records.map((r) => {
    const o = last?.byReplica.get(key(r.process, r.replica));
    const web = isWebProcess(r.process);
    return {
      process: r.process,
      replica: r.replica,
      container_id: o?.pod || r.id,
      state: o?.state ?? "unknown",
      exit_code: o?.s?.exitCode ?? null,
      restart_count: o?.s?.restartCount ?? 0,
      ancla_restarts: 0,
      docker_restarts: o?.s?.restartCount ?? 0,
      last_exit_at: o?.s?.finishedAt ?? null,
      started_at: o?.s?.startedAt ?? null,
      host_port: null,
      in_rotation: web ? o?.s?.health === "healthy" : null,
      last_error: o?.state === "missing" ? "no pod for this replica" : null,
      next_attempt_at: null,
    };
  });
}
