// A protocol-faithful Kubernetes API server for tests — a TEST DOUBLE, never shipped. No real API
// server can run on these machines, so this one speaks the real protocol over HTTPS with a
// client certificate from a generated kubeconfig (and optionally a bearer token): discovery, the
// REST paths/verbs/content types @kubernetes/client-node uses, server-side apply, resourceVersion
// and generation semantics, Status bodies, watches, status/scale subresources and pods/log. Its
// controllers turn Deployments into ReplicaSets and Pods, and its kubelet runs every Pod as a real
// Docker container pulled from a (loopback) registry with the pod's imagePullSecret, with
// readiness from the real probe — rollouts, crash loops, image-pull failures and traffic are real.
// Deviations, for test speed: probe periods are capped (1 s), restart/pull back-offs are short
// (0.5 s doubling to 5 s), grace periods are capped (2 s), one container per pod, list items and
// watches are served from memory (no etcd compaction beyond 20 000 events), server-side apply
// tracks one last-applied configuration per field manager instead of full managedFields sets, and a
// watch response starts with a newline (JSON whitespace) because Bun sends a streamed response's
// head only with its first bytes. Helpers: podsOf/endpoints give a Deployment's or Service's pods
// with the 127.0.0.1 host port their container is published on. batch/v1 Jobs run their pod once
// (restartPolicy Never: the exit code stays in the pod's terminated state); PersistentVolumeClaims
// are Bound at once and each is a Docker named volume, so data outlives pods.
import type { DockerClient } from "../../../src/targets/docker/client";
import { Controllers } from "./controller";
import { Kubelet, HOST_PORT_ANNOTATION, SERVER_LABEL } from "./kubelet";
import { ApiError, matchesLabels, parseLabelSelector, selectorRequirements, type Obj } from "./objects";
import { kubeconfigText, makePki, type KubeconfigOptions, type Pki } from "./pki";
import { RESOURCES, type ResourceDef } from "./resources";
import { handle, type DenyRule, type HandlerState, type RecordedRequest } from "./server";
import { Store } from "./store";

export { HOST_PORT_ANNOTATION, SERVER_LABEL } from "./kubelet";
export type { Obj } from "./objects";

export type KubeApiOptions = {
  /** Docker engine for the kubelet; without it pods stay Pending (API-only tests) */
  docker?: DockerClient;
  /** labels put on every container (e.g. RUN_LABELS for the run's cleanup) */
  containerLabels?: Record<string, string>;
  /** serve metrics.k8s.io (a metrics server); absent by default, as on a bare cluster */
  metrics?: boolean;
  /** require `Authorization: Bearer <token>` as well */
  token?: string;
  /** require a client certificate at the TLS handshake (default true) */
  clientCert?: boolean;
  /** IngressClass objects to create at start (e.g. ["nginx"]) */
  ingressClasses?: string[];
};

export type PodView = { name: string; namespace: string; hostPort?: number; ready: boolean; phase: string; terminating: boolean; restarts: number; waiting?: string; labels: Record<string, string>; image: string };

export type KubeApi = {
  url: string;
  pki: Pki;
  store: Store;
  /** every request seen (method, path, query, content type) */
  requests: RecordedRequest[];
  /** forbid verbs on resources (403 and SelfSubjectAccessReview allowed=false), e.g. {verb:"create", resource:"deployments"} */
  deny: (rule: DenyRule) => void;
  allowAll: () => void;
  kubeconfig: (o?: Partial<Omit<KubeconfigOptions, "server" | "pki">>) => string;
  get: (kind: string, ns: string | undefined, name: string) => Obj | undefined;
  list: (kind: string, ns?: string, labelSelector?: string) => Obj[];
  /** pods of a Deployment (its selector), with the host port their container is published on */
  podsOf: (ns: string, deployment: string) => PodView[];
  /** pods a Service's selector picks, ready and not terminating (its endpoints) */
  endpoints: (ns: string, service: string) => PodView[];
  events: (ns: string) => Obj[];
  stop: () => Promise<void>;
};

const defOf = (kind: string): ResourceDef => {
  const d = RESOURCES.find((r) => r.kind === kind);
  if (!d) throw new Error(`unknown kind ${kind}`);
  return d;
};

function view(p: Obj): PodView {
  const cs = p.status?.containerStatuses?.[0];
  return {
    name: p.metadata.name,
    namespace: p.metadata.namespace,
    hostPort: p.metadata.annotations?.[HOST_PORT_ANNOTATION] ? Number(p.metadata.annotations[HOST_PORT_ANNOTATION]) : undefined,
    ready: (p.status?.conditions ?? []).some((c: Obj) => c.type === "Ready" && c.status === "True"),
    phase: p.status?.phase ?? "Pending",
    terminating: Boolean(p.metadata.deletionTimestamp),
    restarts: cs?.restartCount ?? 0,
    waiting: cs?.state?.waiting?.reason,
    labels: p.metadata.labels ?? {},
    image: p.spec.containers[0].image,
  };
}

export async function startKubeApi(o: KubeApiOptions = {}): Promise<KubeApi> {
  const pki = makePki();
  const store = new Store(RESOURCES);
  const serverId = `k${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;
  const controllers = new Controllers(store);
  const kubelet = o.docker
    ? new Kubelet(store, { docker: o.docker, serverId, labels: o.containerLabels ?? {}, backoffBaseMs: 500, backoffCapMs: 5000, probePeriodCapMs: 1000, graceCapMs: 2000 }, (obj, type, reason, msg) => controllers.event(obj, type, reason, msg))
    : undefined;
  store.gracefulPods = Boolean(kubelet);
  const state: HandlerState = {
    store,
    token: o.token,
    user: "ancla-test",
    deny: [],
    requests: [],
    metrics: Boolean(o.metrics),
    hooks: {
      podLog: async (ns, name, q, signal) => {
        if (!kubelet) throw new ApiError(400, "BadRequest", `container in pod "${name}" is waiting to start: ContainerCreating`);
        return kubelet.log(ns, name, q, signal);
      },
      metrics: async (d, ns, name) => podMetrics(o.docker, store, d, ns, name),
    },
  };
  for (const name of ["default", "kube-system", "kube-public"]) store.create(defOf("Namespace"), undefined, { metadata: { name } });
  for (const name of o.ingressClasses ?? []) store.create(defOf("IngressClass"), undefined, { metadata: { name }, spec: { controller: `k8s.io/ingress-${name}` } });

  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    tls: { cert: pki.serverCert, key: pki.serverKey, ca: pki.ca, requestCert: o.clientCert !== false, rejectUnauthorized: o.clientCert !== false },
    fetch: (req) => handle(state, req),
  });
  const url = `https://127.0.0.1:${server.port}`;

  // controllers and kubelet: a pass on every change (coalesced) and every 250 ms for probes and deadlines
  let running = false;
  let again = false;
  let stopped = false;
  const pass = async () => {
    if (stopped) return;
    if (running) return void (again = true);
    running = true;
    try {
      do {
        again = false;
        controllers.sync();
        await kubelet?.sync();
      } while (again && !stopped);
    } catch (e) {
      console.error("kube test controllers:", e);
    } finally {
      running = false;
    }
  };
  let queued = false;
  store.onChange = () => {
    if (queued) return;
    queued = true;
    setTimeout(() => ((queued = false), void pass()), 10);
  };
  const timer = setInterval(() => void pass(), 250);

  const list = (kind: string, ns?: string, labelSelector?: string) => store.list(defOf(kind), { ns, labelSelector });
  return {
    url,
    pki,
    store,
    requests: state.requests,
    deny: (rule) => void state.deny.push(rule),
    allowAll: () => void state.deny.splice(0),
    kubeconfig: (k = {}) => kubeconfigText({ server: url, pki, token: o.token, ...k }),
    get: (kind, ns, name) => store.find(defOf(kind), ns, name),
    list,
    podsOf: (ns, deployment) => {
      const d = store.find(defOf("Deployment"), ns, deployment);
      if (!d) return [];
      const reqs = selectorRequirements(d.spec.selector);
      return list("Pod", ns).filter((p) => matchesLabels(p.metadata.labels, reqs)).map(view);
    },
    endpoints: (ns, service) => {
      const s = store.find(defOf("Service"), ns, service);
      if (!s?.spec.selector) return [];
      const reqs = parseLabelSelector(Object.entries(s.spec.selector).map(([k, v]) => `${k}=${v}`).join(","));
      return list("Pod", ns).filter((p) => matchesLabels(p.metadata.labels, reqs)).map(view).filter((p) => p.ready && !p.terminating);
    },
    events: (ns) => list("Event", ns),
    async stop() {
      stopped = true;
      clearInterval(timer);
      server.stop(true);
      await kubelet?.stop();
      if (o.docker) {
        for (const c of await o.docker.listContainers({ all: true, filters: { label: [`${SERVER_LABEL}=${serverId}`] } })) await o.docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
        // the Docker volumes that backed PersistentVolumeClaims
        const { Volumes } = await o.docker.listVolumes({ filters: { label: [`${SERVER_LABEL}=${serverId}`] } }).catch(() => ({ Volumes: [] as { Name: string }[] }));
        for (const v of Volumes ?? []) await o.docker.getVolume(v.Name).remove().catch(() => {});
      }
    },
  };
}

/** metrics.k8s.io PodMetrics from the containers' cgroup usage as the engine reports it. */
async function podMetrics(docker: DockerClient | undefined, store: Store, d: ResourceDef, ns: string | undefined, name: string | undefined): Promise<Obj> {
  const now = new Date().toISOString().replace(/\.\d+Z$/, "Z");
  if (d.kind === "NodeMetrics") {
    const item = { metadata: { name: "ancla-test-node" }, timestamp: now, window: "10s", usage: { cpu: "100m", memory: "1048576Ki" } };
    return name ? { kind: "NodeMetrics", apiVersion: "metrics.k8s.io/v1beta1", ...item } : { kind: "NodeMetricsList", apiVersion: "metrics.k8s.io/v1beta1", metadata: {}, items: [item] };
  }
  const pods = store.list(defOf("Pod"), { ns }).filter((p) => !name || p.metadata.name === name);
  const items: Obj[] = [];
  for (const p of pods) {
    const id = (p.status?.containerStatuses?.[0]?.containerID ?? "").replace("docker://", "");
    if (!id || !docker || p.status?.containerStatuses?.[0]?.state?.running === undefined) continue;
    const s = (await docker.getContainer(id).stats({ stream: false }).catch(() => undefined)) as Obj | undefined;
    if (!s) continue;
    const cpuDelta = (s.cpu_stats?.cpu_usage?.total_usage ?? 0) - (s.precpu_stats?.cpu_usage?.total_usage ?? 0);
    const sysDelta = (s.cpu_stats?.system_cpu_usage ?? 0) - (s.precpu_stats?.system_cpu_usage ?? 0);
    const cores = s.cpu_stats?.online_cpus ?? 1;
    const nano = sysDelta > 0 ? Math.round((cpuDelta / sysDelta) * cores * 1e9) : 0;
    const mem = Math.max(0, (s.memory_stats?.usage ?? 0) - (s.memory_stats?.stats?.inactive_file ?? s.memory_stats?.stats?.total_inactive_file ?? 0));
    items.push({ metadata: { name: p.metadata.name, namespace: p.metadata.namespace, labels: p.metadata.labels }, timestamp: now, window: "10s", containers: [{ name: p.spec.containers[0].name, usage: { cpu: `${nano}n`, memory: `${Math.round(mem / 1024)}Ki` } }] });
  }
  if (name) {
    if (!items[0]) throw new ApiError(404, "NotFound", `podmetrics.metrics.k8s.io "${name}" not found`);
    return { kind: "PodMetrics", apiVersion: "metrics.k8s.io/v1beta1", ...items[0] };
  }
  return { kind: "PodMetricsList", apiVersion: "metrics.k8s.io/v1beta1", metadata: {}, items };
}
