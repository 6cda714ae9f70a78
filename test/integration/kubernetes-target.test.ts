// The Kubernetes target's logs, replicas and metrics against the test API server (real HTTPS with
// the kubeconfig's client certificate, pods as real containers): pods/log tail and follow, pods as
// replicas with their state, and metrics.k8s.io usage — or the honest "metrics server not
// installed" when the cluster does not serve it (a real 404 from the API server).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { ensureBaseImage, RUN_LABELS, BASE_IMAGE, testDocker } from "../support/docker";
import { startKubeApi, type KubeApi } from "../support/kube";
import { kubeClients } from "../support/kube/client";
import { kubernetesTarget } from "../../src/targets/kubernetes";
import type { LogLine } from "../../src/targets/target";
import { poller } from "../support/poll";
import { rejectionOf } from "../support/settle";

setDefaultTimeout(300_000);

const NS = "target-selftest";
const SERVICE_ID = "svc-0001";
let withMetrics: KubeApi;
let bare: KubeApi;

const until = poller(90_000, 150);

const targetOn = (api: KubeApi) =>
  kubernetesTarget(
    { kubeconfig: api.kubeconfig(), context: null, namespace: NS, ingressClass: null, tlsSecretName: null, registry: null },
    { push: async () => Promise.reject(new Error("no push in this test")), checkRegistry: async () => "unused" },
  );

/** A process Deployment as Ancla labels it, running a local image (no registry needed here). */
async function runTicker(api: KubeApi): Promise<string> {
  const c = kubeClients(api.kubeconfig());
  await c.core.createNamespace({ body: { metadata: { name: NS } } });
  const labels = { "dev.ancla.managed": "true", "dev.ancla.service-id": SERVICE_ID, "dev.ancla.process": "worker" };
  await c.apps.patchNamespacedDeployment(
    {
      name: "ticker-worker",
      namespace: NS,
      fieldManager: "ancla",
      force: true,
      body: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "ticker-worker", namespace: NS, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: { "dev.ancla.service-id": SERVICE_ID, "dev.ancla.process": "worker" } },
          template: { metadata: { labels }, spec: { containers: [{ name: "worker", image: BASE_IMAGE, imagePullPolicy: "IfNotPresent", command: ["sh", "-c", 'i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 0.3; done'] }] } },
        },
      },
    },
    setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
  );
  const pod = await until("the ticker pod running", () => api.podsOf(NS, "ticker-worker").find((p) => p.ready));
  return pod.name;
}

beforeAll(async () => {
  await ensureBaseImage();
  withMetrics = await startKubeApi({ docker: testDocker(), containerLabels: RUN_LABELS, metrics: true });
  bare = await startKubeApi({ docker: testDocker(), containerLabels: RUN_LABELS });
});
afterAll(async () => {
  await withMetrics?.stop();
  await bare?.stop();
});

describe("kubernetes target against the test API server", () => {
  test("replicas are the service's pods; logs tail and follow from pods/log; usage comes from metrics.k8s.io", async () => {
    const podName = await runTicker(withMetrics);
    const target = targetOn(withMetrics);
    const replicas = await target.findReplicas({ serviceId: SERVICE_ID });
    expect(replicas.map((r) => [r.id, r.process, r.running])).toEqual([[podName, "worker", true]]);

    const tail = await until("log lines", async () => {
      const lines = await target.tailLog(podName, 5);
      return lines && lines.length >= 3 ? lines : undefined;
    });
    expect(tail.length).toBeLessThanOrEqual(5);
    expect(tail.every((l) => /^tick \d+$/.test(l.text) && l.ts !== "")).toBe(true);

    const followed: LogLine[] = [];
    const follow = await target.followLog(podName, 1, (l) => followed.push(l));
    expect(follow).not.toBeNull();
    await until("new lines while following", () => followed.length >= 4 || undefined);
    follow!.close();
    await follow!.ended;
    const numbers = followed.map((l) => Number(/tick (\d+)/.exec(l.text)?.[1]));
    expect(numbers.every((n, i) => i === 0 || n === numbers[i - 1]! + 1)).toBe(true);

    const reader = target.usageReader();
    const usage = await until("a usage reading", async () => (await reader.read([{ id: podName }])).get(podName));
    expect(usage.source).toBe("metrics-api");
    expect(usage.memoryBytes).toBeGreaterThan(0);
  });

  test("without a metrics server the usage read says so", async () => {
    const podName = await runTicker(bare);
    const reader = targetOn(bare).usageReader();
    expect((await rejectionOf(reader.read([{ id: podName }]))).message).toContain("metrics server not installed");
    expect(bare.requests.some((r) => r.path.startsWith("/apis/metrics.k8s.io/"))).toBe(true);
  });
});
