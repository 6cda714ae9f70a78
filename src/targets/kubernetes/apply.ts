// A rollout on a cluster, in this order: push the image → namespace and pull secret → keep what
// serves now (a rollback record in the namespace) → server-side apply the release's objects →
// wait until every Deployment has its new replicas available (or fail early on a crash loop, an
// image pull error, an unschedulable pod, the progress deadline or the timeout) → commit → remove
// what the release no longer wants. A failure re-applies the recorded objects, so the previous
// release keeps serving; a crash in between is undone the same way on the next start.
import { DeployFailed, type RolloutHooks, type RolloutPlan, type ServingReplica } from "../target";
import { kubeMessage, statusOf, type Kube } from "./client";
import { deploymentName, dnsLabel, LABEL, podClassName, pullSecret, releaseManifests, serviceSelector, wantedCounts, type KubeObject, type KubeSite } from "./manifests";
import { describePodFailure, podProblem, type Pod } from "./pods";
import { repositoryName } from "../../lib/image-names";
import { ensureClaims } from "./oneoff";

export type ClusterSite = Omit<KubeSite, "image" | "hostnames" | "pullSecret"> & {
  registry: { url: string; username: string | null; password: string | null } | null;
  push: (localRef: string, name: { path: string; tag: string }, log: (line: string) => void, signal?: AbortSignal) => Promise<string>;
};

const POLL_MS = 1000;

/** The image's name in the registry: one repository per service (a path component per slug, so never shared), one tag per release. */
export const imageName = (p: Pick<RolloutPlan, "org" | "project" | "env" | "service" | "releaseVersion">) => ({ path: repositoryName(p), tag: `r${p.releaseVersion}` });
const rollbackName = (service: string) => dnsLabel(`${service}-ancla-rollback`);

function checkAborted(signal?: AbortSignal) {
  if (signal?.aborted) throw signal.reason ?? new Error("aborted");
}

/** An object as it can be applied again: identity, labels, annotations and spec/data, nothing the server owns. */
function reapplicable(o: KubeObject): KubeObject {
  const annotations = Object.fromEntries(Object.entries(o.metadata.annotations ?? {}).filter(([k]) => !k.startsWith("deployment.kubernetes.io/") && !k.startsWith("kubectl.kubernetes.io/")));
  const out: KubeObject = { apiVersion: o.apiVersion, kind: o.kind, metadata: { name: o.metadata.name, namespace: o.metadata.namespace, labels: o.metadata.labels ?? {}, annotations } };
  for (const k of ["spec", "data", "type"]) if (o[k] !== undefined) out[k] = o[k];
  return out;
}

/** The service's Deployments, Service and Ingress as they are now. */
async function currentObjects(kube: Kube, namespace: string, serviceId: string): Promise<KubeObject[]> {
  const sel = serviceSelector(serviceId);
  const [deps, svcs, ings] = await Promise.all([kube.list("Deployment", namespace, sel), kube.list("Service", namespace, sel), kube.list("Ingress", namespace, sel)]);
  return [...deps, ...svcs, ...ings].map(reapplicable);
}

/** Record what serves now, in the namespace, before anything changes (survives a crash of Ancla). */
async function recordRollback(kube: Kube, site: ClusterSite, plan: RolloutPlan, objects: KubeObject[]): Promise<void> {
  await kube.apply({
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: rollbackName(plan.service),
      namespace: site.namespace,
      labels: { ...(site.labels ?? {}), [LABEL.managed]: "true", [LABEL.serviceId]: plan.serviceId, [LABEL.role]: "rollback", [LABEL.deployment]: plan.deploymentId },
    },
    type: "Opaque",
    data: { objects: Buffer.from(JSON.stringify(objects)).toString("base64") },
  });
}

/** Re-apply the recorded objects and delete the service's Deployments/Service/Ingress that were not among them. */
export async function restoreRecorded(kube: Kube, namespace: string, serviceId: string, recorded: KubeObject[]): Promise<void> {
  for (const o of recorded) await kube.apply(o);
  const keep = new Set(recorded.map((o) => `${o.kind}/${o.metadata.name}`));
  for (const o of await currentObjects(kube, namespace, serviceId)) {
    if (!keep.has(`${o.kind}/${o.metadata.name}`)) await kube.remove(o.kind as "Deployment", namespace, o.metadata.name);
  }
}

/** After a crash mid-rollout: re-apply the record of an unfinished rollout of the service, if one is there. */
export async function recoverFromRecord(kube: Kube, namespace: string, serviceId: string, log: (line: string) => void): Promise<void> {
  let secrets: KubeObject[];
  try {
    secrets = await kube.list("Secret", namespace, `${serviceSelector(serviceId)},${LABEL.role}=rollback`);
  } catch (e) {
    if (statusOf(e) === 404) return;
    throw e;
  }
  for (const s of secrets) {
    const raw = (s.data as Record<string, string> | undefined)?.objects;
    const recorded = raw ? (JSON.parse(Buffer.from(raw, "base64").toString("utf8")) as KubeObject[]) : [];
    log(`Re-applying the ${recorded.length} object(s) that served before the interrupted rollout`);
    await restoreRecorded(kube, namespace, serviceId, recorded);
    await kube.remove("Secret", namespace, s.metadata.name);
  }
}

type DeploymentStatus = { metadata?: { generation?: number }; spec?: { replicas?: number }; status?: { observedGeneration?: number; replicas?: number; updatedReplicas?: number; availableReplicas?: number; conditions?: { type: string; status: string; reason?: string; message?: string }[] } };

/** null when the Deployment rolled out; otherwise what it still waits for. */
export function pendingReason(d: DeploymentStatus, want: number): string | null {
  const s = d.status ?? {};
  if ((s.observedGeneration ?? 0) < (d.metadata?.generation ?? 1)) return "not yet observed by the controller";
  const updated = s.updatedReplicas ?? 0;
  const available = s.availableReplicas ?? 0;
  const total = s.replicas ?? 0;
  if (updated === want && available === want && total === want) return null;
  return `${updated}/${want} updated, ${available}/${want} available${total > want ? `, ${total - want} old replica(s) still running` : ""}`;
}

export const progressDeadlineExceeded = (d: DeploymentStatus): string | null => {
  const c = d.status?.conditions?.find((x) => x.type === "Progressing" && x.status === "False" && x.reason === "ProgressDeadlineExceeded");
  return c ? `ProgressDeadlineExceeded${c.message ? `: ${c.message}` : ""}` : null;
};

/** Wait until every Deployment of `counts` rolled out; throws DeployFailed with the reason, the pod's output and events. */
async function waitRolledOut(kube: Kube, site: ClusterSite, plan: RolloutPlan, counts: Record<string, number>, hooks: RolloutHooks): Promise<void> {
  const deadline = Date.now() + plan.timeoutMs;
  const done = new Set<string>();
  const podSelector = plan.inPlace ? serviceSelector(plan.serviceId) : `${serviceSelector(plan.serviceId)},${LABEL.deployment}=${plan.deploymentId}`;
  const pending = new Map<string, string>();
  for (;;) {
    checkAborted(hooks.signal);
    const pods = ((await kube.core.listNamespacedPod({ namespace: site.namespace, labelSelector: podSelector })).items ?? []) as unknown as Pod[];
    for (const pod of pods) {
      const problem = pod.metadata?.deletionTimestamp ? null : podProblem(pod);
      if (problem) throw new DeployFailed(await describePodFailure(kube, site.namespace, pod, problem));
    }
    for (const [process, want] of Object.entries(counts)) {
      if (done.has(process)) continue;
      const d = (await kube.apps.readNamespacedDeployment({ name: deploymentName(plan.service, process), namespace: site.namespace })) as unknown as DeploymentStatus;
      const stuck = progressDeadlineExceeded(d);
      if (stuck) throw new DeployFailed(`${process}: ${stuck}`);
      const why = pendingReason(d, want);
      if (why === null) {
        done.add(process);
        hooks.log(`${process}: ${want} replica(s) available`);
      } else if (pending.get(process) !== why) {
        pending.set(process, why);
        hooks.log(`${process}: ${why}`);
      }
    }
    if (done.size === Object.keys(counts).length) return;
    if (Date.now() > deadline) {
      const left = Object.keys(counts).filter((p) => !done.has(p)).map((p) => `${p}: ${pending.get(p) ?? "not ready"}`);
      throw new DeployFailed(`Rollout timed out after ${Math.round(plan.timeoutMs / 1000)} s (${left.join("; ")}).`);
    }
    await Bun.sleep(POLL_MS);
  }
}

/** Replica records of the release: one per process × replica number (pods come and go; these are slots). */
const servingOf = (plan: RolloutPlan, counts: Record<string, number>): ServingReplica[] =>
  Object.entries(counts).flatMap(([process, n]) =>
    Array.from({ length: n }, (_, i) => ({ id: `${deploymentName(plan.service, process)}/${i + 1}`, process, replica: i + 1, hostPort: null, deploymentId: plan.deploymentId, podClass: podClassName(plan.podClasses[process]), releaseId: plan.releaseId })),
  );

/** A scale of the serving release: only the replica counts change (the pod template stays, nothing restarts). */
async function scaleInPlace(kube: Kube, site: ClusterSite, plan: RolloutPlan, counts: Record<string, number>, hooks: RolloutHooks): Promise<boolean> {
  const merge = kube.mod.setHeaderOptions("Content-Type", kube.mod.PatchStrategy.MergePatch);
  for (const [process, n] of Object.entries(counts)) {
    try {
      await kube.apps.patchNamespacedDeployment({ name: deploymentName(plan.service, process), namespace: site.namespace, body: { spec: { replicas: n } }, fieldManager: "ancla" }, merge);
    } catch (e) {
      if (statusOf(e) === 404) return false; // not there (any more): apply the release instead
      throw e;
    }
    hooks.log(`${process}: scaled to ${n}`);
  }
  return true;
}

export async function rolloutToCluster(kube: Kube, site: ClusterSite, plan: RolloutPlan, hooks: RolloutHooks): Promise<ServingReplica[]> {
  const counts = wantedCounts(plan.processes, plan.counts);
  hooks.step("prepare", 1);
  hooks.log(`Cluster namespace ${site.namespace}; replicas wanted: ${Object.entries(counts).map(([p, n]) => `${p}=${n}`).join(", ") || "none"}`);
  let recorded: KubeObject[] | null = null;
  try {
    if (!(plan.inPlace && (await scaleInPlace(kube, site, plan, counts, hooks)))) {
      if (!site.registry) throw new DeployFailed("This environment has no registry_url: the cluster needs a registry to pull the image from.");
      const image = await site.push(plan.image, imageName(plan), hooks.log, hooks.signal);
      checkAborted(hooks.signal);
      const objects = releaseManifests(plan, { ...site, image, hostnames: plan.hostnames ?? [], pullSecret: !!site.registry.username });
      await kube.apply(objects[0]!); // the namespace first: everything else lives in it
      if (site.registry.username) await kube.apply(pullSecret(site.namespace, site.registry.url.split("/")[0]!, site.registry.username, site.registry.password ?? "", site.labels));
      recorded = await currentObjects(kube, site.namespace, plan.serviceId);
      await recordRollback(kube, site, plan, recorded);
      hooks.step("start", 2);
      // the service's volumes: claims are created once and never touched by a rollout again
      await ensureClaims(kube, site, plan, plan.volumes);
      for (const o of objects.slice(1)) await kube.apply(o);
      hooks.started(Object.keys(counts).map((p) => deploymentName(plan.service, p)));
      hooks.log(`Applied ${objects.length - 1} object(s) (server-side apply, field manager ancla)`);
    }
    hooks.step("health", 3);
    await waitRolledOut(kube, site, plan, counts, hooks);
  } catch (e) {
    if (hooks.signal?.aborted) throw e; // the next start re-applies the record (recoverFromRecord)
    const reason = e instanceof DeployFailed ? e.message : `Could not apply the release to the cluster: ${kubeMessage(e)}`;
    if (recorded) {
      try {
        await restoreRecorded(kube, site.namespace, plan.serviceId, recorded);
        await kube.remove("Secret", site.namespace, rollbackName(plan.service));
        hooks.log(recorded.length ? "Re-applied the previous release's objects" : "Removed the objects of this failed first rollout");
      } catch (r) {
        hooks.log(`Could not re-apply the previous release's objects: ${kubeMessage(r)}`);
      }
    }
    throw new DeployFailed(reason);
  }

  hooks.step("switch", 4);
  // the cluster's Service and Ingress carry its traffic: nothing of this service on the local router
  await hooks.switchTraffic([]);
  const serving = servingOf(plan, counts);
  hooks.commit(serving);

  hooks.step("cleanup", 5);
  await removeUnwanted(kube, site, plan, counts).catch((e) => hooks.log(`Cleanup of objects no longer wanted failed: ${kubeMessage(e)}`));
  return serving;
}

/** Objects of the service the release no longer wants: Deployments of removed process types, Service/Ingress without web, older config. */
async function removeUnwanted(kube: Kube, site: ClusterSite, plan: RolloutPlan, counts: Record<string, number>): Promise<void> {
  const sel = serviceSelector(plan.serviceId);
  const wantedDeployments = new Set(Object.keys(counts).map((p) => deploymentName(plan.service, p)));
  for (const d of await kube.list("Deployment", site.namespace, sel)) if (!wantedDeployments.has(d.metadata.name)) await kube.remove("Deployment", site.namespace, d.metadata.name);
  const web = "web" in counts;
  if (!web) for (const s of await kube.list("Service", site.namespace, sel)) await kube.remove("Service", site.namespace, s.metadata.name);
  if (!web || !(plan.hostnames ?? []).length) for (const i of await kube.list("Ingress", site.namespace, sel)) await kube.remove("Ingress", site.namespace, i.metadata.name);
  for (const s of await kube.list("Secret", site.namespace, `${sel},${LABEL.role}=config`)) {
    if (s.metadata.labels?.[LABEL.release] !== plan.releaseId) await kube.remove("Secret", site.namespace, s.metadata.name);
  }
  if (!plan.inPlace) await kube.remove("Secret", site.namespace, rollbackName(plan.service));
}
