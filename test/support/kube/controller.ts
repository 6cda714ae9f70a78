// The controllers of the test Kubernetes API server: Deployment → ReplicaSet per pod template
// (pod-template-hash, revision annotation) → Pods, the RollingUpdate arithmetic of the real
// deployment controller (maxSurge rounded up, maxUnavailable rounded down; new RS scaled up within
// replicas + maxSurge; old RSs scaled down only while available pods stay ≥ replicas −
// maxUnavailable, unhealthy old pods first), Recreate, Deployment/ReplicaSet status with
// Progressing/Available conditions and ProgressDeadlineExceeded, and Events. The job controller:
// a Job's pods one at a time (parallelism/completions 1, as Ancla uses them) with status
// active/succeeded/failed, startTime/completionTime, the Complete or Failed condition
// (BackoffLimitExceeded, DeadlineExceeded from activeDeadlineSeconds, whose pods are deleted) and
// the TTL-after-finished controller. The volume binder: every PersistentVolumeClaim is Bound at
// once (a dynamically provisioned `pvc-<uid>` volume of its requested size).
import { createHash } from "node:crypto";
import type { Obj } from "./objects";
import { clone, stableJson } from "./objects";
import { RESOURCES } from "./resources";
import type { Store } from "./store";

const def = (kind: string) => RESOURCES.find((d) => d.kind === kind)!;
const [DEPLOY, RS, POD, EVENT, JOB, PVC] = [def("Deployment"), def("ReplicaSet"), def("Pod"), def("Event"), def("Job"), def("PersistentVolumeClaim")];
const now = () => new Date().toISOString().replace(/\.\d+Z$/, "Z");
const ownedBy = (o: Obj, uid: string) => (o.metadata.ownerReferences ?? []).some((r: Obj) => r.uid === uid && r.controller);
const ownerRef = (o: Obj) => ({ apiVersion: o.apiVersion, kind: o.kind, name: o.metadata.name, uid: o.metadata.uid, controller: true, blockOwnerDeletion: true });
const MANAGER = { manager: "kube-controller-manager" };

function intOrPercent(v: unknown, total: number, roundUp: boolean): number {
  if (typeof v === "number") return v;
  const m = /^(\d+)%$/.exec(String(v ?? "0"));
  if (!m) return Number(v) || 0;
  const x = (Number(m[1]) * total) / 100;
  return roundUp ? Math.ceil(x) : Math.floor(x);
}

export function templateHash(template: Obj): string {
  return createHash("sha256").update(stableJson(template)).digest("hex").slice(0, 10);
}

export class Controllers {
  /** pods this controller considers available, by uid → time they became ready (minReadySeconds) */
  constructor(private readonly store: Store) {}

  /** One event per (object, reason, message); repeats bump count and lastTimestamp, as the event recorder does. */
  event(obj: Obj, type: string, reason: string, message: string, component = "kubelet"): void {
    const ns = obj.metadata.namespace;
    if (!ns) return;
    try {
      const same = this.store.list(EVENT, { ns }).find((e) => e.involvedObject?.uid === obj.metadata.uid && e.reason === reason && e.message === message);
      if (same) {
        const next = { ...same, apiVersion: "v1", kind: "Event", count: (same.count ?? 1) + 1, lastTimestamp: now() };
        this.store.replace(EVENT, same, next, { manager: component });
        return;
      }
      this.store.create(EVENT, ns, {
        metadata: { name: `${obj.metadata.name}.${Date.now().toString(16)}${Math.random().toString(16).slice(2, 6)}`, namespace: ns },
        involvedObject: { apiVersion: obj.apiVersion, kind: obj.kind, name: obj.metadata.name, namespace: ns, uid: obj.metadata.uid, resourceVersion: obj.metadata.resourceVersion },
        reason,
        message,
        type,
        source: { component },
        firstTimestamp: now(),
        lastTimestamp: now(),
        count: 1,
        reportingComponent: component,
      }, { manager: component });
    } catch {
      // a terminating or deleted namespace takes no events
    }
  }

  private available(pod: Obj, minReadySeconds: number): boolean {
    if (pod.metadata.deletionTimestamp) return false;
    const ready = (pod.status?.conditions ?? []).find((c: Obj) => c.type === "Ready");
    if (ready?.status !== "True") return false;
    return Date.parse(ready.lastTransitionTime) + minReadySeconds * 1000 <= Date.now();
  }
  private ready(pod: Obj): boolean {
    return !pod.metadata.deletionTimestamp && (pod.status?.conditions ?? []).some((c: Obj) => c.type === "Ready" && c.status === "True");
  }

  sync(): void {
    for (const d of this.store.list(DEPLOY)) if (!d.metadata.deletionTimestamp) this.syncDeployment(d);
    for (const rs of this.store.list(RS)) this.syncReplicaSet(rs);
    for (const j of this.store.list(JOB)) if (!j.metadata.deletionTimestamp) this.syncJob(j);
    for (const c of this.store.list(PVC)) if (c.status?.phase !== "Bound") this.bindClaim(c);
  }

  /** The dynamic provisioner and binder: a volume `pvc-<uid>` of the requested size, Bound. */
  private bindClaim(c: Obj): void {
    const next = clone(c);
    next.spec.volumeName = `pvc-${c.metadata.uid}`;
    next.metadata.annotations = { ...next.metadata.annotations, "pv.kubernetes.io/bind-completed": "yes", "pv.kubernetes.io/bound-by-controller": "yes", "volume.kubernetes.io/storage-provisioner": "ancla-test.local/docker-volume" };
    const bound = this.store.replace(PVC, c, next, { manager: "kube-controller-manager" });
    this.store.writeStatus(PVC, c.metadata.namespace, c.metadata.name, { phase: "Bound", accessModes: clone(c.spec.accessModes), capacity: { storage: c.spec.resources.requests.storage } });
    this.event(bound, "Normal", "ProvisioningSucceeded", `Successfully provisioned volume pvc-${c.metadata.uid}`, "persistentvolume-controller");
  }

  private podsOfJob(j: Obj): Obj[] {
    return this.store.list(POD, { ns: j.metadata.namespace }).filter((p) => ownedBy(p, j.metadata.uid));
  }

  /** The job controller for Ancla's shape of Job (one pod at a time until one succeeds or backoffLimit is passed). */
  private syncJob(j: Obj): void {
    const status: Obj = clone(j.status ?? {});
    const conds: Obj[] = status.conditions ?? [];
    const finishedCond = conds.find((c) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
    const pods = this.podsOfJob(j);
    if (finishedCond) {
      const ttl = j.spec.ttlSecondsAfterFinished;
      if (typeof ttl === "number" && Date.parse(finishedCond.lastTransitionTime) + ttl * 1000 <= Date.now()) {
        this.store.delete(JOB, j.metadata.namespace, j.metadata.name); // its pods go with it (ownerReferences)
      }
      return;
    }
    const t = now();
    const succeeded = pods.filter((p) => p.status?.phase === "Succeeded").length;
    const failed = pods.filter((p) => p.status?.phase === "Failed").length;
    const active = pods.filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");
    status.startTime ??= t;
    const finish = (type: "Complete" | "Failed", reason: string, message: string) => {
      const extra = type === "Complete" ? [{ type: "SuccessCriteriaMet", status: "True", reason: "CompletionsReached", message: "Reached expected number of succeeded pods", lastProbeTime: t, lastTransitionTime: t }] : [{ type: "FailureTarget", status: "True", reason, message, lastProbeTime: t, lastTransitionTime: t }];
      status.conditions = [...conds, ...extra, { type, status: "True", ...(reason ? { reason } : {}), ...(message ? { message } : {}), lastProbeTime: t, lastTransitionTime: t }];
      if (type === "Complete") status.completionTime = t;
      this.event(j, type === "Complete" ? "Normal" : "Warning", type === "Complete" ? "Completed" : reason, type === "Complete" ? "Job completed" : message, "job-controller");
    };
    const deadline = j.spec.activeDeadlineSeconds;
    if (succeeded >= (j.spec.completions ?? 1)) finish("Complete", "", "");
    else if (failed > (j.spec.backoffLimit ?? 6)) finish("Failed", "BackoffLimitExceeded", "Job has reached the specified backoff limit");
    else if (typeof deadline === "number" && Date.parse(status.startTime) + deadline * 1000 <= Date.now()) {
      for (const p of active) this.store.delete(POD, p.metadata.namespace, p.metadata.name);
      finish("Failed", "DeadlineExceeded", "Job was active longer than specified deadline");
    } else if (active.length === 0 && !j.spec.suspend) {
      const name = `${j.metadata.name}-${Math.random().toString(36).slice(2, 7)}`;
      const pod = this.store.create(POD, j.metadata.namespace, {
        metadata: { name, namespace: j.metadata.namespace, labels: clone(j.spec.template.metadata?.labels), annotations: clone(j.spec.template.metadata?.annotations), ownerReferences: [ownerRef(j)], finalizers: undefined },
        spec: { ...clone(j.spec.template.spec), nodeName: "ancla-test-node" },
      }, { manager: "kube-controller-manager" });
      this.event(j, "Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name}`, "job-controller");
    }
    const live = this.podsOfJob(j).filter((p) => !p.metadata.deletionTimestamp && p.status?.phase !== "Succeeded" && p.status?.phase !== "Failed");
    const done = (status.conditions ?? []).some((c: Obj) => (c.type === "Complete" || c.type === "Failed") && c.status === "True");
    status.active = done ? 0 : live.length;
    status.ready = done ? 0 : live.filter((p) => this.ready(p)).length;
    status.terminating = 0;
    status.uncountedTerminatedPods = {};
    for (const [k, v] of [["succeeded", succeeded], ["failed", failed]] as const) if (v) status[k] = v;
    if (!status.active) delete status.active;
    this.store.writeStatus(JOB, j.metadata.namespace, j.metadata.name, status);
  }

  private replicaSets(d: Obj): Obj[] {
    return this.store.list(RS, { ns: d.metadata.namespace }).filter((rs) => ownedBy(rs, d.metadata.uid));
  }
  private podsOf(rs: Obj): Obj[] {
    return this.store.list(POD, { ns: rs.metadata.namespace }).filter((p) => ownedBy(p, rs.metadata.uid));
  }

  private ensureNewRs(d: Obj, rss: Obj[]): { rs: Obj; created: boolean } {
    const hash = templateHash(d.spec.template);
    const maxRev = Math.max(0, ...rss.map((r) => Number(r.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? 0)));
    const existing = rss.find((r) => r.metadata.labels?.["pod-template-hash"] === hash);
    if (existing) {
      const rev = Number(existing.metadata.annotations?.["deployment.kubernetes.io/revision"] ?? 0);
      if (rev < maxRev) {
        // a rollback to an old template: that ReplicaSet becomes the newest revision again
        const next = clone(existing);
        next.metadata.annotations = { ...next.metadata.annotations, "deployment.kubernetes.io/revision": String(maxRev + 1) };
        return { rs: this.store.replace(RS, existing, next, MANAGER), created: false };
      }
      return { rs: existing, created: false };
    }
    const labels = { ...d.spec.template.metadata?.labels, "pod-template-hash": hash };
    const rs = this.store.create(RS, d.metadata.namespace, {
      metadata: { name: `${d.metadata.name}-${hash}`, namespace: d.metadata.namespace, labels, annotations: { "deployment.kubernetes.io/revision": String(maxRev + 1), "deployment.kubernetes.io/desired-replicas": String(d.spec.replicas) }, ownerReferences: [ownerRef(d)] },
      spec: { replicas: 0, minReadySeconds: d.spec.minReadySeconds ?? 0, selector: { ...d.spec.selector, matchLabels: { ...d.spec.selector.matchLabels, "pod-template-hash": hash } }, template: { ...clone(d.spec.template), metadata: { ...clone(d.spec.template.metadata), labels } } },
    }, MANAGER);
    this.event(d, "Normal", "ScalingReplicaSet", `Created new replica set "${rs.metadata.name}"`, "deployment-controller");
    return { rs, created: true };
  }

  private scaleRs(d: Obj, rs: Obj, replicas: number): Obj {
    if (rs.spec.replicas === replicas) return rs;
    const verb = replicas > rs.spec.replicas ? "up" : "down";
    this.event(d, "Normal", "ScalingReplicaSet", `Scaled ${verb} replica set ${rs.metadata.name} from ${rs.spec.replicas} to ${replicas}`, "deployment-controller");
    const next = clone(rs);
    next.spec.replicas = replicas;
    next.metadata.annotations = { ...next.metadata.annotations, "deployment.kubernetes.io/desired-replicas": String(d.spec.replicas) };
    return this.store.replace(RS, rs, next, MANAGER);
  }

  private availableCount(rs: Obj, minReady: number): number {
    return this.podsOf(rs).filter((p) => this.available(p, minReady)).length;
  }

  private syncDeployment(d: Obj): void {
    const R = d.spec.replicas as number;
    const minReady = d.spec.minReadySeconds ?? 0;
    let rss = this.replicaSets(d);
    const { rs: created, created: isNew } = this.ensureNewRs(d, rss);
    let newRs = created;
    rss = this.replicaSets(d);
    let olds = rss.filter((r) => r.metadata.uid !== newRs.metadata.uid).sort((a, b) => a.metadata.creationTimestamp.localeCompare(b.metadata.creationTimestamp));
    if (!d.spec.paused) {
      if (d.spec.strategy?.type === "Recreate") {
        for (const o of olds) this.scaleRs(d, o, 0);
        const oldPods = olds.flatMap((o) => this.podsOf(o));
        if (oldPods.length === 0) newRs = this.scaleRs(d, newRs, R);
      } else {
        const ru = d.spec.strategy?.rollingUpdate ?? {};
        const maxSurge = intOrPercent(ru.maxSurge ?? "25%", R, true);
        let maxUnavailable = intOrPercent(ru.maxUnavailable ?? "25%", R, false);
        if (maxSurge === 0 && maxUnavailable === 0) maxUnavailable = 1;
        const total = () => [newRs, ...olds].reduce((n, r) => n + r.spec.replicas, 0);
        // scale up the new ReplicaSet within replicas + maxSurge
        if (newRs.spec.replicas > R) newRs = this.scaleRs(d, newRs, R);
        else if (newRs.spec.replicas < R) {
          const up = Math.min(R + maxSurge - total(), R - newRs.spec.replicas);
          if (up > 0) newRs = this.scaleRs(d, newRs, newRs.spec.replicas + up);
        }
        // scale down old ReplicaSets while enough pods stay available
        const minAvailable = R - maxUnavailable;
        const newUnavailable = newRs.spec.replicas - this.availableCount(newRs, minReady);
        let budget = total() - minAvailable - newUnavailable;
        if (budget > 0) {
          olds = olds.map((o) => {
            const unhealthy = o.spec.replicas - this.availableCount(o, minReady);
            const cut = Math.min(budget, Math.max(0, unhealthy));
            if (cut <= 0) return o;
            budget -= cut;
            return this.scaleRs(d, o, o.spec.replicas - cut);
          });
          let availableAll = [newRs, ...olds].reduce((n, r) => n + this.availableCount(r, minReady), 0);
          for (const [i, o] of olds.entries()) {
            if (availableAll - minAvailable <= 0) break;
            const cut = Math.min(o.spec.replicas, availableAll - minAvailable);
            if (cut <= 0) continue;
            availableAll -= cut;
            olds[i] = this.scaleRs(d, o, o.spec.replicas - cut);
          }
        }
      }
    }
    this.writeDeploymentStatus(d, newRs, olds, isNew);
  }

  private writeDeploymentStatus(d: Obj, newRs: Obj, olds: Obj[], isNew: boolean): void {
    const cur = this.store.find(DEPLOY, d.metadata.namespace, d.metadata.name);
    if (!cur) return;
    const minReady = d.spec.minReadySeconds ?? 0;
    const R = d.spec.replicas as number;
    const all = [newRs, ...olds].flatMap((r) => this.podsOf(r)).filter((p) => !p.metadata.deletionTimestamp);
    const updated = this.podsOf(newRs).filter((p) => !p.metadata.deletionTimestamp);
    const ready = all.filter((p) => this.ready(p)).length;
    const available = all.filter((p) => this.available(p, minReady)).length;
    const old = cur.status ?? {};
    const ru = d.spec.strategy?.rollingUpdate ?? {};
    const maxUnavailable = d.spec.strategy?.type === "Recreate" ? 0 : intOrPercent(ru.maxUnavailable ?? "25%", R, false);
    const status: Obj = {
      observedGeneration: d.metadata.generation,
      replicas: all.length,
      updatedReplicas: updated.length,
      readyReplicas: ready,
      availableReplicas: available,
      ...(R - available > 0 ? { unavailableReplicas: R - available } : {}),
    };
    for (const k of ["readyReplicas", "availableReplicas", "updatedReplicas", "replicas"]) if (status[k] === 0) delete status[k];
    const t = now();
    const conds: Obj[] = clone(old.conditions ?? []);
    const setCond = (c: Obj) => {
      const i = conds.findIndex((x) => x.type === c.type);
      const prev = conds[i];
      const next = { ...c, lastUpdateTime: c.lastUpdateTime ?? t, lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : t };
      if (i >= 0) conds[i] = next;
      else conds.push(next);
    };
    const availOk = available >= R - maxUnavailable;
    const prevAvail = conds.find((c) => c.type === "Available");
    if (!prevAvail || (prevAvail.status === "True") !== availOk) setCond({ type: "Available", status: availOk ? "True" : "False", reason: availOk ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable", message: availOk ? "Deployment has minimum availability." : "Deployment does not have minimum availability." });
    const rsName = newRs.metadata.name;
    const complete = updated.length === R && all.length === R && available === R;
    const prog = conds.find((c) => c.type === "Progressing");
    const oldOlds = (old.replicas ?? 0) - (old.updatedReplicas ?? 0);
    const progressed = isNew || (status.updatedReplicas ?? 0) > (old.updatedReplicas ?? 0) || all.length - updated.length < oldOlds || ready > (old.readyReplicas ?? 0) || available > (old.availableReplicas ?? 0);
    const deadline = (d.spec.progressDeadlineSeconds ?? 600) * 1000;
    if (complete) {
      if (prog?.reason !== "NewReplicaSetAvailable") setCond({ type: "Progressing", status: "True", reason: "NewReplicaSetAvailable", message: `ReplicaSet "${rsName}" has successfully progressed.` });
    } else if (progressed || !prog || (prog.reason === "NewReplicaSetAvailable")) {
      setCond({ type: "Progressing", status: "True", reason: isNew ? "NewReplicaSetCreated" : "ReplicaSetUpdated", message: isNew ? `Created new replica set "${rsName}"` : `ReplicaSet "${rsName}" is progressing.` });
    } else if (prog.reason !== "ProgressDeadlineExceeded" && Date.parse(prog.lastUpdateTime) + deadline < Date.now()) {
      setCond({ type: "Progressing", status: "False", reason: "ProgressDeadlineExceeded", message: `ReplicaSet "${rsName}" has timed out progressing.` });
      this.event(d, "Warning", "ProgressDeadlineExceeded", `ReplicaSet "${rsName}" has timed out progressing.`, "deployment-controller");
    }
    status.conditions = conds;
    this.store.writeStatus(DEPLOY, d.metadata.namespace, d.metadata.name, status);
  }

  /** The ReplicaSet controller: as many pods as spec.replicas; the least useful go first. */
  private syncReplicaSet(rs: Obj): void {
    const pods = this.podsOf(rs);
    const live = pods.filter((p) => !p.metadata.deletionTimestamp);
    const want = rs.spec.replicas as number;
    for (let i = live.length; i < want; i++) {
      const name = `${rs.metadata.name}-${Math.random().toString(36).slice(2, 7)}`;
      const pod = this.store.create(POD, rs.metadata.namespace, {
        metadata: { name, namespace: rs.metadata.namespace, labels: clone(rs.spec.template.metadata?.labels), annotations: clone(rs.spec.template.metadata?.annotations), ownerReferences: [ownerRef(rs)] },
        spec: { ...clone(rs.spec.template.spec), nodeName: "ancla-test-node" },
      }, MANAGER);
      this.event(rs, "Normal", "SuccessfulCreate", `Created pod: ${pod.metadata.name}`, "replicaset-controller");
    }
    if (live.length > want) {
      const score = (p: Obj) => (this.ready(p) ? 2 : 0) + (p.status?.phase === "Running" ? 1 : 0);
      const victims = [...live].sort((a, b) => score(a) - score(b) || b.metadata.creationTimestamp.localeCompare(a.metadata.creationTimestamp)).slice(0, live.length - want);
      for (const p of victims) {
        this.store.delete(POD, p.metadata.namespace, p.metadata.name);
        this.event(rs, "Normal", "SuccessfulDelete", `Deleted pod: ${p.metadata.name}`, "replicaset-controller");
      }
    }
    const now2 = this.podsOf(rs).filter((p) => !p.metadata.deletionTimestamp);
    const minReady = rs.spec.minReadySeconds ?? 0;
    const status: Obj = { replicas: now2.length, fullyLabeledReplicas: now2.length, readyReplicas: now2.filter((p) => this.ready(p)).length, availableReplicas: now2.filter((p) => this.available(p, minReady)).length, observedGeneration: rs.metadata.generation };
    for (const k of ["readyReplicas", "availableReplicas", "fullyLabeledReplicas"]) if (status[k] === 0) delete status[k];
    this.store.writeStatus(RS, rs.metadata.namespace, rs.metadata.name, status);
  }
}
