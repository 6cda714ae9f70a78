// One-offs (the release phase, runs) on a cluster as batch/v1 Jobs, and the service's volumes as
// PersistentVolumeClaims. A one-off: push the image, apply the namespace, pull secret, the
// release's config Secret and the claims, create the Job (manifests.jobManifest), follow its pod's
// log as the output, wait for the Job's Complete/Failed condition, read the exit code from the
// pod's terminated state, and always delete the Job (propagationPolicy Background: its pod goes
// too). Claims are created when missing and never changed or deleted by a rollout; only
// VolumeStore.remove (a service deleted with delete_volumes) deletes them.
import { DeployFailed, type OneOffHooks, type OneOffPlan, type OneOffResult, type ServiceRef, type VolumeMount } from "../target";
import { statusOf, type Kube } from "./client";
import { claimManifest, claimName, configSecret, jobManifest, LABEL, pullSecret, type KubeObject } from "./manifests";
import { podProblem, type Pod } from "./pods";
import type { ClusterSite } from "./apply";
import { imageName } from "./apply";

const POLL_MS = 500;
// after activeDeadlineSeconds the cluster stops the Job; Ancla gives it this long to say so
const DEADLINE_SLACK_MS = 30_000;

/** Create the service's claims that do not exist yet; refuse a claim of the same name that another service owns. */
export async function ensureClaims(kube: Kube, site: Pick<ClusterSite, "namespace" | "labels">, ref: ServiceRef, volumes: VolumeMount[] | undefined): Promise<void> {
  for (const v of volumes ?? []) {
    const want = claimManifest(ref, site, v);
    let existing: KubeObject | null = null;
    try {
      existing = (await kube.core.readNamespacedPersistentVolumeClaim({ name: want.metadata.name, namespace: site.namespace })) as unknown as KubeObject;
    } catch (e) {
      if (statusOf(e) !== 404) throw e;
    }
    if (!existing) {
      // created once: its size is fixed then (a claim's spec is immutable but for growing, which the storage class may not allow)
      await kube.apply(want);
      continue;
    }
    if (existing.metadata.labels?.[LABEL.serviceId] !== ref.serviceId)
      throw new DeployFailed(`The PersistentVolumeClaim ${want.metadata.name} in namespace ${site.namespace} exists but does not belong to this service (left by a deleted service or made outside Ancla); delete it with kubectl or give the volume another name.`);
  }
}

/** Delete the service's claims by name (only those labelled with its id); missing ones are fine. */
export async function removeClaims(kube: Kube, namespace: string, ref: ServiceRef, names: string[]): Promise<void> {
  for (const name of names) {
    const claim = claimName(ref.service, name);
    try {
      const existing = (await kube.core.readNamespacedPersistentVolumeClaim({ name: claim, namespace })) as unknown as KubeObject;
      if (existing.metadata.labels?.[LABEL.serviceId] !== ref.serviceId) continue; // not ours to remove
    } catch (e) {
      if (statusOf(e) === 404) continue;
      throw e;
    }
    await kube.remove("PersistentVolumeClaim", namespace, claim);
  }
}

type JobStatus = { status?: { active?: number; succeeded?: number; failed?: number; conditions?: { type: string; status: string; reason?: string; message?: string }[] } };

/** "Complete", "Failed" (with its reason) or null while the Job runs. */
function finished(job: JobStatus): { type: "Complete" | "Failed"; reason: string } | null {
  for (const c of job.status?.conditions ?? []) {
    if (c.status !== "True") continue;
    if (c.type === "Complete" || c.type === "Failed") return { type: c.type, reason: c.reason ?? "" };
  }
  return null;
}

const podsOfRun = async (kube: Kube, namespace: string, runId: string): Promise<Pod[]> =>
  ((await kube.core.listNamespacedPod({ namespace, labelSelector: `${LABEL.managed}=true,${LABEL.runId}=${runId}` })).items ?? []) as unknown as Pod[];

/** Follow a pod's log from its start; the stream ends when the container exits. */
function followPodLog(kube: Kube, namespace: string, pod: string, output: (chunk: string) => void): { ended: Promise<void>; close: () => void } {
  const abort = new AbortController();
  const ended = (async () => {
    try {
      const res = await kube.fetch(`/api/v1/namespaces/${encodeURIComponent(namespace)}/pods/${encodeURIComponent(pod)}/log?follow=true`, { signal: abort.signal });
      if (!res.ok || !res.body) return void (await res.arrayBuffer().catch(() => {}));
      const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
      abort.signal.addEventListener("abort", () => void reader.cancel().catch(() => {}));
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (value) output(value);
      }
    } catch {
      // closed by us, or the connection dropped
    }
  })();
  return { ended, close: () => abort.abort() };
}

/** Run one one-off as a Job to its end; the Job is deleted afterwards whatever happened. */
export async function runOneOffJob(kube: Kube, site: ClusterSite, plan: OneOffPlan, hooks: OneOffHooks): Promise<OneOffResult> {
  if (!site.registry) throw new DeployFailed("This environment has no registry_url: the cluster needs a registry to pull the image from.");
  const ns = site.namespace;
  // the image and the release's config may not be on the cluster yet (the release phase runs before the rollout)
  const image = await site.push(plan.image, imageName(plan), () => {}, hooks.signal);
  await kube.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: ns, labels: { ...(site.labels ?? {}), [LABEL.managed]: "true" } } });
  if (site.registry.username) await kube.apply(pullSecret(ns, site.registry.url.split("/")[0]!, site.registry.username, site.registry.password ?? "", site.labels));
  await kube.apply(configSecret({ ...plan, healthCheckPath: "/", healthCheckHost: null, counts: {}, podClasses: {} }, { namespace: ns, ingressClass: null, tlsSecretName: null, image, hostnames: [], pullSecret: false, labels: site.labels }));
  await ensureClaims(kube, site, plan, plan.volumes);
  const job = jobManifest(plan, { namespace: ns, image, pullSecret: !!site.registry.username, labels: site.labels });
  const since = Date.now();
  let follow: ReturnType<typeof followPodLog> | null = null;
  let timedOut = false;
  try {
    await kube.apply(job);
    const deadline = since + plan.timeoutMs + DEADLINE_SLACK_MS;
    for (;;) {
      if (hooks.signal?.aborted) return { exitCode: null, timedOut, durationMs: Date.now() - since };
      const pods = await podsOfRun(kube, ns, plan.runId);
      const pod = pods[0];
      if (pod) {
        const problem = podProblem(pod);
        if (problem) throw new DeployFailed(`The ${plan.kind === "release" ? "release phase" : "run"}'s pod ${pod.metadata?.name}: ${problem}`);
        const c = pod.status?.containerStatuses?.[0];
        if (!follow && (c?.state?.running || c?.state?.terminated)) follow = followPodLog(kube, ns, pod.metadata!.name!, hooks.output);
      }
      const current = (await kube.batch.readNamespacedJob({ name: job.metadata.name, namespace: ns })) as unknown as JobStatus;
      const done = finished(current);
      if (done) {
        if (done.type === "Failed" && done.reason === "DeadlineExceeded") timedOut = true;
        const latest = (await podsOfRun(kube, ns, plan.runId))[0] ?? pod;
        if (latest && !follow) follow = followPodLog(kube, ns, latest.metadata!.name!, hooks.output);
        if (follow) await Promise.race([follow.ended, Bun.sleep(10_000)]);
        const terminated = latest?.status?.containerStatuses?.[0]?.state?.terminated;
        const exitCode = timedOut ? null : typeof terminated?.exitCode === "number" ? terminated.exitCode : done.type === "Complete" ? 0 : null;
        return { exitCode, timedOut, durationMs: Date.now() - since };
      }
      if (Date.now() > deadline) return { exitCode: null, timedOut: (timedOut = true), durationMs: Date.now() - since };
      await Bun.sleep(POLL_MS);
    }
  } finally {
    follow?.close();
    await kube.remove("Job", ns, job.metadata.name).catch(() => {});
  }
}

/** Delete the Jobs of a one-off by its run id (its pods go with them). */
export async function stopOneOffJobs(kube: Kube, namespace: string, runId: string): Promise<void> {
  let jobs: KubeObject[];
  try {
    jobs = await kube.list("Job", namespace, `${LABEL.managed}=true,${LABEL.runId}=${runId}`);
  } catch (e) {
    if (statusOf(e) === 404) return;
    throw e;
  }
  for (const j of jobs) await kube.remove("Job", namespace, j.metadata.name);
}
