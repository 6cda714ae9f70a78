// The test Kubernetes API server's batch/v1 Jobs and PersistentVolumeClaims, checked with
// @kubernetes/client-node and Debian's kubectl: discovery, create/apply/get/list/delete, the
// generated selector and pod labels, a Job's pod run once as a real container with its exit code
// in the pod's terminated state, status active/succeeded/failed and the Complete/Failed
// conditions (BackoffLimitExceeded, DeadlineExceeded), a claim Bound at once whose data outlives
// the pod that wrote it, and deletion with propagationPolicy Background taking the pods along.
import { setDefaultTimeout } from "bun:test";
setDefaultTimeout(300_000);
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE_IMAGE, ensureBaseImage, RUN_LABELS, testDocker } from "../support/docker";
import { startKubeApi, type KubeApi } from "../support/kube";
import { kubeClients, type KubeClients } from "../support/kube/client";
import { poller } from "../support/poll";
import { rejectionOf } from "../support/settle";

const NS = "jobs-selftest";
let api: KubeApi;
let c: KubeClients;

const until = poller(90_000, 150);

const job = (name: string, command: string, extra: Record<string, unknown> = {}, volumes = true) => ({
  apiVersion: "batch/v1",
  kind: "Job",
  metadata: { name, namespace: NS, labels: { app: "selftest" } },
  spec: {
    backoffLimit: 0,
    ...extra,
    template: {
      spec: {
        restartPolicy: "Never",
        containers: [{ name: "main", image: BASE_IMAGE, imagePullPolicy: "IfNotPresent", command: ["/bin/sh", "-c", command], ...(volumes ? { volumeMounts: [{ name: "d", mountPath: "/data" }] } : {}) }],
        ...(volumes ? { volumes: [{ name: "d", persistentVolumeClaim: { claimName: "data" } }] } : {}),
      },
    },
  },
});
const finishedCondition = (j: any) => (j.status?.conditions ?? []).find((x: any) => (x.type === "Complete" || x.type === "Failed") && x.status === "True");
const podOf = async (name: string) => ((await c.core.listNamespacedPod({ namespace: NS, labelSelector: `batch.kubernetes.io/job-name=${name}` })).items ?? [])[0];

beforeAll(async () => {
  await ensureBaseImage();
  api = await startKubeApi({ docker: testDocker(), containerLabels: RUN_LABELS });
  c = kubeClients(api.kubeconfig());
  await c.core.createNamespace({ body: { metadata: { name: NS } } });
});
afterAll(async () => {
  await api?.stop();
});

describe("test API server: jobs and persistent volume claims", () => {
  test("discovery lists batch/v1 jobs and v1 persistentvolumeclaims", async () => {
    const batch = await (await c.request("/apis/batch/v1")).json();
    expect(batch.resources.find((r: any) => r.name === "jobs")).toMatchObject({ kind: "Job", namespaced: true });
    expect(batch.resources.some((r: any) => r.name === "jobs/status")).toBe(true);
    const core = await (await c.request("/api/v1")).json();
    expect(core.resources.find((r: any) => r.name === "persistentvolumeclaims")).toMatchObject({ kind: "PersistentVolumeClaim", shortNames: ["pvc"] });
  });

  test("a claim is Bound at once; a Job runs its pod once, Complete with succeeded 1; the data outlives that pod", async () => {
    await c.core.patchNamespacedPersistentVolumeClaim(
      { name: "data", namespace: NS, fieldManager: "selftest", force: true, body: { apiVersion: "v1", kind: "PersistentVolumeClaim", metadata: { name: "data", namespace: NS }, spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "1Gi" } } } } },
      setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
    );
    const claim = await until("the claim bound", async () => {
      const x = await c.core.readNamespacedPersistentVolumeClaim({ name: "data", namespace: NS });
      return x.status?.phase === "Bound" ? x : undefined;
    });
    expect(claim.spec?.volumeName).toBe(`pvc-${claim.metadata?.uid}`);
    expect(claim.status?.capacity?.storage).toBe("1Gi");

    const created = await c.batch.createNamespacedJob({ namespace: NS, body: job("writer", "echo hello > /data/f; echo wrote") as never });
    // the API server's generated selector and pod template labels
    expect(created.spec?.selector?.matchLabels?.["batch.kubernetes.io/controller-uid"]).toBe(created.metadata?.uid);
    expect(created.spec?.template.metadata?.labels).toMatchObject({ "batch.kubernetes.io/job-name": "writer", "job-name": "writer" });
    const done = await until("the writer Job finished", async () => {
      const j = await c.batch.readNamespacedJob({ name: "writer", namespace: NS });
      return finishedCondition(j) ? j : undefined;
    });
    expect(finishedCondition(done).type).toBe("Complete");
    expect(done.status?.succeeded).toBe(1);
    expect(done.status?.active ?? 0).toBe(0);
    expect(done.status?.completionTime).toBeDefined();
    const pod = (await podOf("writer"))!;
    expect(pod.status?.phase).toBe("Succeeded");
    expect(pod.status?.containerStatuses?.[0]?.state?.terminated?.exitCode).toBe(0);
    expect(pod.status?.containerStatuses?.[0]?.restartCount).toBe(0);
    expect(await c.core.readNamespacedPodLog({ name: pod.metadata!.name!, namespace: NS })).toBe("wrote\n");

    await c.batch.createNamespacedJob({ namespace: NS, body: job("reader", "cat /data/f") as never });
    await until("the reader Job finished", async () => finishedCondition(await c.batch.readNamespacedJob({ name: "reader", namespace: NS })));
    const reader = (await podOf("reader"))!;
    expect(await c.core.readNamespacedPodLog({ name: reader.metadata!.name!, namespace: NS })).toBe("hello\n");
  });

  test("a failing pod with backoffLimit 0: the Job is Failed (BackoffLimitExceeded), the exit code is in the pod's terminated state, nothing restarts", async () => {
    await c.batch.createNamespacedJob({ namespace: NS, body: job("fails", "echo no; exit 7", {}, false) as never });
    const j = await until("the failing Job finished", async () => {
      const x = await c.batch.readNamespacedJob({ name: "fails", namespace: NS });
      return finishedCondition(x) ? x : undefined;
    });
    expect(finishedCondition(j)).toMatchObject({ type: "Failed", reason: "BackoffLimitExceeded" });
    expect(j.status?.failed).toBe(1);
    await Bun.sleep(1500);
    const pods = (await c.core.listNamespacedPod({ namespace: NS, labelSelector: "job-name=fails" })).items;
    expect(pods.length).toBe(1);
    expect(pods[0]!.status?.phase).toBe("Failed");
    expect(pods[0]!.status?.containerStatuses?.[0]?.state?.terminated).toMatchObject({ exitCode: 7, reason: "Error" });
  });

  test("activeDeadlineSeconds stops a Job (DeadlineExceeded, its pod deleted); kubectl waits on a Job's condition", async () => {
    await c.batch.createNamespacedJob({ namespace: NS, body: job("slow", "sleep 60", { activeDeadlineSeconds: 2 }, false) as never });
    const j = await until("the slow Job stopped", async () => {
      const x = await c.batch.readNamespacedJob({ name: "slow", namespace: NS });
      return finishedCondition(x) ? x : undefined;
    });
    expect(finishedCondition(j)).toMatchObject({ type: "Failed", reason: "DeadlineExceeded" });
    await until("its pod gone", async () => (await c.core.listNamespacedPod({ namespace: NS, labelSelector: "job-name=slow" })).items.length === 0);

    const dir = mkdtempSync(join(tmpdir(), "ancla-kubectl-jobs-"));
    try {
      writeFileSync(join(dir, "config"), api.kubeconfig());
      await c.batch.createNamespacedJob({ namespace: NS, body: job("quick", "true", {}, false) as never });
      const p = Bun.spawn(["kubectl", "--kubeconfig", join(dir, "config"), "-n", NS, "wait", "--for=condition=complete", "job/quick", "--timeout=90s"], { stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect({ code, err }).toEqual({ code: 0, err: "" });
      expect(out).toContain("job.batch/quick condition met");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  test("deleting a Job with propagationPolicy Background deletes its pod; a Job's template is immutable; restartPolicy Always is refused", async () => {
    expect(await rejectionOf(c.batch.createNamespacedJob({ namespace: NS, body: { ...job("bad", "true", {}, false), spec: { ...job("bad", "true", {}, false).spec, template: { spec: { restartPolicy: "Always", containers: [{ name: "m", image: BASE_IMAGE }] } } } } as never }))).toMatchObject({ code: 422 });
    expect(await rejectionOf(
      c.batch.patchNamespacedJob({ name: "writer", namespace: NS, body: { spec: { template: { spec: { containers: [{ name: "main", image: "other" }] } } } } }, setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch)),
    )).toMatchObject({ code: 422 });
    await c.batch.deleteNamespacedJob({ name: "writer", namespace: NS, propagationPolicy: "Background" });
    await until("the writer's pod gone", async () => !(await podOf("writer")));
  });

  test("a deleted claim's Docker volume is removed", async () => {
    const uid = (await c.core.readNamespacedPersistentVolumeClaim({ name: "data", namespace: NS })).metadata!.uid!;
    const has = async () => ((await testDocker().listVolumes()).Volumes ?? []).some((v) => v.Name.endsWith(`-pvc-${uid}`));
    expect(await has()).toBe(true);
    await c.batch.deleteNamespacedJob({ name: "reader", namespace: NS, propagationPolicy: "Background" });
    await c.core.deleteNamespacedPersistentVolumeClaim({ name: "data", namespace: NS });
    await until("the volume removed", async () => !(await has()), 60_000);
  });
});
