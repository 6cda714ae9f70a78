// Pods as Ancla reads them: why one cannot become ready (crash loop, image pull, unschedulable),
// its last output and recent events for the deploy log, and its state as a replica.
import type { FoundReplica, LogLine, ReplicaState } from "../target";
import { kubeMessage, type Kube } from "./client";
import { LABEL } from "./manifests";

type ContainerState = { waiting?: { reason?: string; message?: string }; running?: { startedAt?: string | Date }; terminated?: { exitCode?: number; reason?: string; finishedAt?: string | Date; startedAt?: string | Date } };
export type Pod = {
  metadata?: { name?: string; labels?: Record<string, string>; deletionTimestamp?: string | Date; creationTimestamp?: string | Date };
  status?: {
    phase?: string;
    conditions?: { type: string; status: string; reason?: string; message?: string }[];
    containerStatuses?: { name: string; ready?: boolean; restartCount?: number; state?: ContainerState; lastState?: ContainerState }[];
  };
};

const FATAL_WAITING = new Set(["CrashLoopBackOff", "ImagePullBackOff", "ErrImagePull", "CreateContainerConfigError", "CreateContainerError", "InvalidImageName"]);
const LOG_LINES = 20;
const EVENTS = 8;

/** Why the pod will not become ready by waiting; null while it still may. */
export function podProblem(pod: Pod): string | null {
  for (const c of pod.status?.containerStatuses ?? []) {
    const w = c.state?.waiting;
    if (w?.reason && FATAL_WAITING.has(w.reason)) {
      const last = c.lastState?.terminated;
      const exit = w.reason === "CrashLoopBackOff" && last?.exitCode !== undefined ? ` (exit code ${last.exitCode})` : "";
      return `${w.reason}${exit}${w.message ? `: ${w.message}` : ""}`;
    }
  }
  const unschedulable = pod.status?.conditions?.find((c) => c.type === "PodScheduled" && c.status === "False" && c.reason === "Unschedulable");
  if (unschedulable) return `Unschedulable${unschedulable.message ? `: ${unschedulable.message}` : ""}`;
  return null;
}

const iso = (t: string | Date | undefined): string | null => (t === undefined ? null : t instanceof Date ? t.toISOString() : String(t));

/** The reason, the pod's last log lines and its recent events (the runner redacts before storing). */
export async function describePodFailure(kube: Kube, namespace: string, pod: Pod, problem: string): Promise<string> {
  const name = pod.metadata?.name ?? "?";
  const process = pod.metadata?.labels?.[LABEL.process] ?? "pod";
  const parts = [`${process} pod ${name}: ${problem}`];
  const restarted = (pod.status?.containerStatuses ?? []).some((c) => (c.restartCount ?? 0) > 0 || c.lastState?.terminated);
  const tail = (await readLog(kube, namespace, name, LOG_LINES, restarted)) ?? (restarted ? await readLog(kube, namespace, name, LOG_LINES, false) : null);
  if (tail) parts.push(`Last output:\n${tail}`);
  try {
    const events = ((await kube.core.listNamespacedEvent({ namespace, fieldSelector: `involvedObject.name=${name}` })).items ?? [])
      .map((e) => ({ at: iso((e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp) as Date | undefined) ?? "", line: `${e.type ?? "Normal"} ${e.reason ?? ""}: ${e.message ?? ""}` }))
      .sort((a, b) => (a.at < b.at ? -1 : 1))
      .slice(-EVENTS);
    if (events.length) parts.push(`Recent events:\n${events.map((e) => e.line).join("\n")}`);
  } catch {
    // events are a help, not a requirement
  }
  return parts.join("\n");
}

async function readLog(kube: Kube, namespace: string, name: string, tailLines: number, previous: boolean): Promise<string | null> {
  try {
    const text = await kube.core.readNamespacedPodLog({ name, namespace, tailLines, previous });
    return typeof text === "string" && text.trim() ? text.trimEnd() : null;
  } catch {
    return null;
  }
}

/** A pod as a replica: `replica` is its place among the service's pods of that process (by name). */
export function foundReplica(pod: Pod, replica: number | null): FoundReplica {
  const l = pod.metadata?.labels ?? {};
  return {
    id: pod.metadata?.name ?? "",
    serviceId: l[LABEL.serviceId] ?? null,
    releaseId: l[LABEL.release] ?? null,
    deploymentId: l[LABEL.deployment] ?? null,
    process: l[LABEL.process] ?? null,
    replica,
    running: pod.status?.phase === "Running" && !pod.metadata?.deletionTimestamp,
    state: replicaState(pod),
  };
}

export function replicaState(pod: Pod): ReplicaState {
  const c = pod.status?.containerStatuses?.[0];
  const running = !!c?.state?.running && !pod.metadata?.deletionTimestamp;
  const waiting = c?.state?.waiting?.reason;
  const last = c?.lastState?.terminated ?? c?.state?.terminated;
  return {
    running,
    restarting: waiting === "CrashLoopBackOff",
    status: pod.metadata?.deletionTimestamp ? "removing" : (waiting ?? (c?.state?.terminated ? "exited" : (pod.status?.phase ?? "Unknown").toLowerCase())),
    paused: false,
    health: c ? (c.ready ? "healthy" : "starting") : null,
    finishedAt: iso(last?.finishedAt),
    startedAt: iso(c?.state?.running?.startedAt),
    exitCode: last?.exitCode ?? null,
    oomKilled: last?.reason === "OOMKilled",
    restartCount: c?.restartCount ?? 0,
    hostPort: null,
  };
}

const TS = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) ?/;
export function splitTimestamp(line: string): LogLine {
  const m = TS.exec(line);
  return m ? { ts: m[1]!, text: line.slice(m[0].length) } : { ts: "", text: line };
}

export const logError = kubeMessage;
