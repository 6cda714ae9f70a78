// One reconcile pass of a service: compare the replicas its serving deployment recorded with their
// containers, and make the route table and the engine agree with the record. A replica Docker
// restarted is served again on its new port once it answers its health path; a dead one (exited
// and not restarting, or removed) leaves the rotation and is restarted or replaced, with backoff
// per replica. A service with an unfinished deployment is left alone: the rollout owns it.
import type { Deps } from "../../deps";
import type { ReplicaRecord } from "../../db/schema";
import { routeTableOf, type Backend } from "../../router/table";
import { isWebProcess, ServiceRemoved, type ReplicaState } from "../../targets/target";
import { healReplica } from "./replace";
import { forgetSlots, servingOf, slotFor, type ReplicaStateName, type Serving, type Slot } from "./replicas";
import * as repo from "./repo";

export type PassHooks = {
  /** Ask for another pass of the service after delayMs. */
  request: (serviceId: string, delayMs?: number) => void;
  /** Rate limited per message. */
  warn: (message: string, fields: Record<string, unknown>) => void;
  info: (message: string, fields: Record<string, unknown>) => void;
  /** Aborted when the server stops. */
  signal: AbortSignal;
  /** Background work (a restart or replacement) to wait for at stop. */
  track: (work: Promise<unknown>) => void;
};

// first restart at once, then 1 s, 2 s, 4 s … per replica; a replica up this long starts over
const BASE_BACKOFF_MS = 1000;
const MAX_BACKOFF_MS = 60_000;
const BACKOFF_RESET_MS = 60_000;
// a restarted web replica that does not answer its health path yet is checked again this often
const PROBE_RETRY_MS = [250, 500, 1000, 2000, 5000];

function stateOf(s: ReplicaState | null): ReplicaStateName {
  if (!s) return "missing";
  if (s.restarting) return "restarting"; // Docker's restart policy brings it back; its start event brings us back
  if (s.paused) return "paused";
  if (!s.running) return "exited"; // exited, created or dead: nothing will start it but us
  return s.health === "unhealthy" ? "unhealthy" : "running";
}

function observe(slot: Slot, r: ReplicaRecord, s: ReplicaState | null): void {
  slot.containerId = r.id;
  slot.state = slot.healing ? "replacing" : stateOf(s);
  if (!s) return;
  // Docker resets ExitCode to 0 when the container runs again; the code of the last exit stays
  // what was seen while it was down (or what its die event said)
  if (!s.running || s.restarting) slot.exitCode = s.finishedAt ? s.exitCode : null;
  if (s.finishedAt) slot.lastExitAt = s.finishedAt;
  slot.startedAt = s.running ? s.startedAt : null;
  slot.dockerRestarts = s.restartCount;
  slot.hostPort = s.hostPort;
}

type Verdict = { backend?: Backend; dead?: { record: ReplicaRecord; slot: Slot; exists: boolean }; recheckIn?: number };

/** One recorded replica: observe its container; serve it, leave it out, or mark it dead. */
async function checkReplica(deps: Deps, serviceId: string, r: ReplicaRecord, release: Serving["release"], inTable: Map<string, number>): Promise<Verdict> {
  const slot = slotFor(deps, serviceId, r);
  const s = await deps.targets.local.inspectReplica(r.id, release.port);
  observe(slot, r, s);
  const dead = slot.state === "missing" || slot.state === "exited" ? { record: r, slot, exists: s !== null } : undefined;
  if (!isWebProcess(r.process) || !s?.hostPort) return { dead };
  const backend = { id: r.id, port: s.hostPort };
  // a paused replica keeps its place: the router's upstream timeout bounds what it costs
  if (slot.state === "paused") return inTable.get(r.id) === backend.port ? { backend } : {};
  if (slot.state !== "running") return { dead };
  if (inTable.get(r.id) === backend.port) return { backend };
  // new here or moved to another port: serve it once it answers, like the health gate
  const problem = await deps.targets.local.supervision.probe(backend.port, release.healthCheckPath, release.healthCheckHost);
  if (!problem) {
    slot.probeFailures = 0;
    return { backend };
  }
  slot.state = "starting";
  return { recheckIn: PROBE_RETRY_MS[Math.min(slot.probeFailures++, PROBE_RETRY_MS.length - 1)]! };
}

export async function reconcileService(deps: Deps, hooks: PassHooks, serviceId: string): Promise<void> {
  const serving = servingOf(deps, serviceId);
  if (serving === "gone") return forgetSlots(deps, serviceId);
  if (serving === "busy") return; // the runner asks for a pass when the deployment ends
  const { current, release } = serving;
  const records = current.metadata.replicas ?? [];
  forgetSlots(deps, serviceId, records);
  const table = routeTableOf(deps);
  const inTable = new Map(table.replicasOf(serviceId).map((r) => [r.id, r.port]));
  const verdicts = await Promise.all(records.map((r) => checkReplica(deps, serviceId, r, release, inTable)));
  // the checks above awaited the engine: a rollout that began meanwhile owns the table now
  const still = servingOf(deps, serviceId);
  if (typeof still === "string" || still.current.id !== current.id) return;
  const web = verdicts.flatMap((v) => (v.backend ? [v.backend] : []));
  table.setReplicas(serviceId, web);
  const rotating = new Set(web.map((b) => b.id));
  for (const r of records) {
    const slot = slotFor(deps, serviceId, r);
    slot.inRotation = rotating.has(r.id);
    // back by itself (Docker's restart policy, an operator): no earlier failure is pending any more
    if (slot.state === "running" && !slot.healing) {
      slot.lastError = null;
      slot.nextAttemptAt = null;
    }
  }
  recordPorts(deps, current.id, web);
  const recheckIn = Math.min(...verdicts.map((v) => v.recheckIn ?? Infinity));
  if (recheckIn < Infinity) hooks.request(serviceId, recheckIn);
  for (const v of verdicts) if (v.dead) scheduleHeal(deps, hooks, serviceId, current.id, v.dead);
}

/** Keep the recorded ports true: a failed rollout falls back to them (servingWeb). */
function recordPorts(deps: Deps, deploymentId: string, web: Backend[]): void {
  const d = repo.findDeployment(deps.db, deploymentId);
  const replicas = d?.metadata.replicas;
  if (!d || !replicas) return;
  const ports = new Map(web.map((b) => [b.id, b.port]));
  if (!replicas.some((r) => ports.has(r.id) && ports.get(r.id) !== r.hostPort)) return;
  const updated = replicas.map((r) => (ports.has(r.id) ? { ...r, hostPort: ports.get(r.id)! } : r));
  repo.updateDeployment(deps.db, deploymentId, { metadata: { ...d.metadata, replicas: updated } });
}

function scheduleHeal(deps: Deps, hooks: PassHooks, serviceId: string, deploymentId: string, dead: { record: ReplicaRecord; slot: Slot; exists: boolean }): void {
  const { slot, record } = dead;
  if (slot.healing || hooks.signal.aborted) return;
  const now = Date.now();
  if (slot.healedAt && now - slot.healedAt > BACKOFF_RESET_MS) slot.attempts = 0;
  const wait = slot.attempts ? Math.min(MAX_BACKOFF_MS, BASE_BACKOFF_MS * 2 ** (slot.attempts - 1)) : 0;
  const at = slot.lastAttemptAt + wait;
  if (at > now) {
    slot.nextAttemptAt = at;
    hooks.request(serviceId, at - now);
    return;
  }
  slot.attempts++;
  slot.lastAttemptAt = now;
  slot.nextAttemptAt = null;
  slot.healing = true;
  slot.state = "replacing";
  const label = `${record.process}.${record.replica}`;
  const was = dead.exists ? `exited${slot.exitCode !== null ? ` with code ${slot.exitCode}` : ""}` : "was removed";
  const work = healReplica(deps, { serviceId, deploymentId, record, exists: dead.exists, attempt: slot.attempts, signal: hooks.signal, why: was })
    .then((outcome) => {
      if (outcome.ok) {
        slot.healedAt = Date.now();
        slot.lastError = null;
        hooks.info("replica brought back", { service: serviceId, replica: label, how: outcome.how, container: outcome.id.slice(0, 12) });
      } else if (outcome.error) {
        slot.lastError = outcome.error;
        hooks.warn("replica could not be brought back; retrying with backoff", { service: serviceId, replica: label, error: outcome.error });
      }
    })
    .catch((e) => {
      const message = (e as Error).message;
      // a torn-down service whose rows were kept (a preview whose removal failed) is refused until
      // its next rollout: said once in the log, shown on the replica, not warned again every minute
      const repeat = e instanceof ServiceRemoved && slot.lastError === message;
      slot.lastError = message;
      if (!repeat) hooks.warn("replica could not be brought back; retrying with backoff", { service: serviceId, replica: label, error: message });
    })
    .finally(() => {
      slot.healing = false;
      hooks.request(serviceId, 0);
    });
  hooks.track(work);
}
