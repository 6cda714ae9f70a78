import { setDefaultTimeout } from "bun:test";
setDefaultTimeout(300_000);
// The usage sampler on kubernetes environments, through the target interface against the test
// API server (real HTTPS with the kubeconfig's client certificate, pods as real containers): with
// metrics.k8s.io served, the observability routes give CPU/memory points and the pod as the
// replica; without a metrics server the answer says why there are no numbers (replica counts
// still come from the pods) and `ancla metrics` prints that reason; an API server that accepts connections and never answers is given
// up on within the timeout, while the other environments are sampled in the same tick.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { PatchStrategy, setHeaderOptions } from "@kubernetes/client-node";
import { BASE_IMAGE, ensureBaseImage, RUN_LABELS, testDocker } from "../support/docker";
import { startKubeApi, type KubeApi } from "../support/kube";
import { kubeClients } from "../support/kube/client";
import { testApp, type TestApp } from "../support/app";
import { ancla } from "../support/server";
import { CLUSTER_READ_TIMEOUT_MS, startSampler, type Sampler } from "../../src/modules/observability/sampler";
import { poller } from "../support/poll";

const PROJ = "/api/v1/orgs/acme/projects/web";
let withMetrics: KubeApi;
let bare: KubeApi;
let silent: import("bun").TCPSocketListener<undefined> | undefined;
let t: TestApp;
let key: string;
let sampler: Sampler | undefined;
const svc: Record<string, { id: string; ns: string; pod: string }> = {};

const until = poller(120_000);

async function ok(method: string, path: string, body?: unknown) {
  const r = await t.req(method, path, body, { key });
  if (r.status >= 300) throw new Error(`${method} ${path}: ${r.status} ${r.text}`);
  return r.body;
}

/** A kubernetes environment from `kubeconfig` with one service "api". */
async function envWithService(env: string, kubeconfig: string): Promise<{ id: string; ns: string }> {
  const e = await ok("POST", `${PROJ}/envs`, { name: env, target: "kubernetes", kubeconfig, registry_url: "127.0.0.1:5000" });
  const s = await ok("POST", `${PROJ}/envs/${env}/services`, { name: "api" });
  return { id: s.id, ns: e.namespace };
}

/** The service's web Deployment as Ancla labels it, running a local image (no registry needed); resolves with its ready pod. */
async function runWeb(api: KubeApi, ns: string, serviceId: string): Promise<string> {
  const c = kubeClients(api.kubeconfig());
  await c.core.createNamespace({ body: { metadata: { name: ns } } });
  const labels = { "dev.ancla.managed": "true", "dev.ancla.service-id": serviceId, "dev.ancla.process": "web" };
  await c.apps.patchNamespacedDeployment(
    {
      name: "api-web",
      namespace: ns,
      fieldManager: "ancla",
      force: true,
      body: {
        apiVersion: "apps/v1",
        kind: "Deployment",
        metadata: { name: "api-web", namespace: ns, labels },
        spec: {
          replicas: 1,
          selector: { matchLabels: { "dev.ancla.service-id": serviceId, "dev.ancla.process": "web" } },
          // a few MiB held in a tmpfs file so memory is clearly above zero
          template: { metadata: { labels }, spec: { containers: [{ name: "web", image: BASE_IMAGE, imagePullPolicy: "IfNotPresent", command: ["sh", "-c", "dd if=/dev/zero of=/dev/shm/blob bs=1048576 count=8 2>/dev/null; while true; do sleep 0.5; done"] }] } },
        },
      },
    },
    setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply),
  );
  return (await until("the web pod ready", () => api.podsOf(ns, "api-web").find((p) => p.ready))).name;
}

beforeAll(async () => {
  await ensureBaseImage();
  withMetrics = await startKubeApi({ docker: testDocker(), containerLabels: RUN_LABELS, metrics: true });
  bare = await startKubeApi({ docker: testDocker(), containerLabels: RUN_LABELS });
  // an API server that accepts connections and never says a word
  silent = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {}, open() {} } });
  t = await testApp({ sampleInterval: 15 });
  key = (await t.user("owner")).key;
  await ok("POST", "/api/v1/organizations", { name: "acme", slug: "acme" });
  await ok("POST", "/api/v1/orgs/acme/projects", { name: "web", slug: "web" });
  const metered = await envWithService("metered", withMetrics.kubeconfig());
  const plain = await envWithService("plain", bare.kubeconfig());
  const [m, p] = await Promise.all([runWeb(withMetrics, metered.ns, metered.id), runWeb(bare, plain.ns, plain.id)]);
  svc.metered = { ...metered, pod: m };
  svc.plain = { ...plain, pod: p };
  sampler = startSampler(t.deps, { intervalMs: 0 });
});

afterAll(async () => {
  await sampler?.stop();
  t?.close();
  silent?.stop(true);
  await withMetrics?.stop();
  await bare?.stop();
});

describe("usage of services on a kubernetes environment", () => {
  test("with metrics.k8s.io served: CPU/memory points and the pod as the replica, one metrics read per environment per tick", async () => {
    const reads = () => withMetrics.requests.filter((r) => r.path.startsWith("/apis/metrics.k8s.io/")).length;
    const before = reads();
    await sampler!.sampleOnce();
    await Bun.sleep(1500);
    await sampler!.sampleOnce();
    expect(reads() - before).toBe(2);

    const r = await t.req("GET", `/api/v1/applications/${svc.metered!.id}/observability?range=1h`, undefined, { key });
    expect(r.status).toBe(200);
    expect(r.body.metrics_unavailable).toBeNull();
    const point = r.body.history.filter((p: any) => p.cpu_usage_m !== null).at(-1);
    expect(point).toBeDefined();
    expect(point.pod_count).toBe(1);
    expect(point.cpu_usage_m).toBeGreaterThanOrEqual(0);
    expect(point.memory_usage_bytes).toBeGreaterThan(1024 * 1024);
    expect(r.body.replicas).toHaveLength(1);
    expect(r.body.replicas[0]).toMatchObject({ process: "web", replica: 1, container_id: svc.metered!.pod, state: "running", running: true, source: "metrics-api", restart_count: 0 });
    expect(r.body.replicas[0].memory_usage_bytes).toBeGreaterThan(1024 * 1024);
    for (const secret of ["PRIVATE KEY", withMetrics.pki.clientKey.slice(40, 80)]) expect(r.text).not.toContain(secret);

    // the Prometheus gauges carry the cluster replica too
    const admin = (await t.user("root", { admin: true })).key;
    const metrics = await t.req("GET", "/metrics", undefined, { key: admin });
    expect(metrics.status).toBe(200);
    expect(metrics.text).toMatch(/env="metered"[^\n]*service="api"|service="api"[^\n]*env="metered"/);
  });

  test("without a metrics server: the answer says why, replica counts and states still come from the pods", async () => {
    const r = await t.req("GET", `${PROJ}/observability/?service=api&env=plain&range=1h`, undefined, { key });
    expect(r.status).toBe(200);
    expect(r.body.metrics_unavailable).toMatchObject({ reason: "metrics_server_missing" });
    expect(r.body.metrics_unavailable.message).toContain("metrics server not installed");
    expect(r.body.history.some((p: any) => p.cpu_usage_m !== null || p.memory_usage_bytes !== null)).toBe(false);
    expect(r.body.history.filter((p: any) => p.pod_count !== null).at(-1).pod_count).toBe(1);
    expect(r.body.replicas).toEqual([expect.objectContaining({ process: "web", replica: 1, container_id: svc.plain!.pod, state: "running", running: true, cpu_usage_m: null, memory_usage_bytes: null, source: null })]);
    // a Docker service or a cluster with metrics has no such reason
    expect((await t.req("GET", `${PROJ}/observability/?service=api&env=metered&range=1h`, undefined, { key })).body.metrics_unavailable).toBeNull();
  });

  test("ancla metrics says why a cluster service has no CPU/memory", async () => {
    // the in-process app on a port, so the real CLI can ask it
    const front = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch: async (req) => {
        const u = new URL(req.url);
        const headers: Record<string, string> = {};
        req.headers.forEach((v, k) => (headers[k] = v));
        const r = await t.req(req.method, u.pathname + u.search, undefined, { headers });
        return new Response(r.text, { status: r.status, headers: r.headers });
      },
    });
    try {
      const r = await ancla(["metrics", "acme/web/plain/api"], { env: { ANCLA_SERVER: `http://127.0.0.1:${front.port}`, ANCLA_API_KEY: key } });
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout).toContain("no CPU/memory from the cluster since");
      expect(r.stdout).toContain("metrics server not installed");
      expect(r.stdout).toContain("(metrics_server_missing)");
      expect(r.stdout).toContain(svc.plain!.pod);
    } finally {
      front.stop(true);
    }
  });

  test("an API server that never answers is given up on within the timeout; the other clusters are sampled in the same tick", async () => {
    const kubeconfig = withMetrics.kubeconfig().replace(withMetrics.url, `https://127.0.0.1:${silent!.port}`);
    const mute = await envWithService("mute", kubeconfig);
    const started = Date.now();
    const latest = await sampler!.sampleOnce();
    expect(Date.now() - started).toBeLessThan(CLUSTER_READ_TIMEOUT_MS + 8_000);
    expect(latest.find((l) => l.containerId === svc.metered!.pod)?.memoryBytes).toBeGreaterThan(0);
    const r = await t.req("GET", `${PROJ}/observability/?service=api&env=mute&range=1h`, undefined, { key });
    expect(r.status).toBe(200);
    expect(r.body.metrics_unavailable).toMatchObject({ reason: "cluster_unreachable" });
    expect(r.body.replicas).toEqual([]);
    expect(r.text).not.toContain("PRIVATE KEY");
    expect(mute.id).toBeTruthy();
  });
});
