// A Kubernetes cluster as a deploy target (targets/target.ts), reached through an environment's
// kubeconfig: rollouts by server-side apply (apply.ts), replicas are the service's pods, logs from
// pods/log, usage from metrics.k8s.io, teardown by label. No Supervision: the cluster's
// controllers restart and replace pods themselves. The image is pushed by the local engine
// (`push`, given by the composition root) before the cluster pulls it.
import { KubeconfigError, parseKubeconfig } from "../../lib/kubeconfig";
import { DeployFailed, type DeployTarget, type FoundReplica, type LogLine, type ReplicaFilter, type TargetCheck, type UsageReader } from "../target";
import { connect, kubeMessage, MANAGED_KINDS, statusOf, type Kube } from "./client";
import { recoverFromRecord, rolloutToCluster, type ClusterSite } from "./apply";
import { LABEL, serviceSelector } from "./manifests";
import { foundReplica, replicaState, splitTimestamp, type Pod } from "./pods";
import { createMetricsReader } from "./metrics";
import { removeClaims, runOneOffJob, stopOneOffJobs } from "./oneoff";

export type RegistrySettings = { url: string; username: string | null; password: string | null };

/** An environment's cluster settings with the kubeconfig and registry password opened. */
export type KubeTargetEnv = {
  kubeconfig: string;
  context: string | null;
  namespace: string;
  ingressClass: string | null;
  tlsSecretName: string | null;
  registry: RegistrySettings | null;
  labels?: Record<string, string>;
};

export type KubeTargetOptions = {
  /** push the local image as `<registry>/<name.path>:<name.tag>`; resolves with the digest reference */
  push: (localRef: string, registry: RegistrySettings, name: { path: string; tag: string }, log: (line: string) => void, signal?: AbortSignal) => Promise<string>;
  checkRegistry: (registry: RegistrySettings) => Promise<string>;
};

const selectorOf = (f: ReplicaFilter): string =>
  [
    `${LABEL.managed}=true`,
    ...(f.serviceId !== undefined ? [`${LABEL.serviceId}=${f.serviceId}`] : []),
    ...(f.releaseId !== undefined ? [`${LABEL.release}=${f.releaseId}`] : []),
    ...(f.deploymentId !== undefined ? [`${LABEL.deployment}=${f.deploymentId}`] : []),
    ...(f.process !== undefined ? [`${LABEL.process}=${f.process}`] : []),
  ].join(",");

/** Number pods per process by name (pods have no index of their own). */
function numbered(pods: Pod[]): FoundReplica[] {
  const sorted = [...pods].sort((a, b) => ((a.metadata?.name ?? "") < (b.metadata?.name ?? "") ? -1 : 1));
  const seen = new Map<string, number>();
  return sorted.map((p) => {
    const process = p.metadata?.labels?.[LABEL.process] ?? "";
    const n = (seen.get(process) ?? 0) + 1;
    seen.set(process, n);
    return foundReplica(p, n);
  });
}

/** How often the usage of a cluster that is not on this host is read (the sampler's tick may be shorter). */
export const REMOTE_USAGE_INTERVAL_MS = 60_000;

/** An API server on this host (loopback): cheap to ask every tick. */
export function isLoopbackServer(server: string): boolean {
  try {
    const host = new URL(server).hostname.replace(/^\[|\]$/g, "");
    return host === "localhost" || host === "::1" || /^127\./.test(host);
  } catch {
    return false;
  }
}

export function kubernetesTarget(env: KubeTargetEnv, opts: KubeTargetOptions): DeployTarget {
  let connecting: Promise<Kube> | null = null;
  const kube = (): Promise<Kube> => {
    if (!connecting) {
      connecting = (async () => {
        try {
          return await connect(parseKubeconfig(env.kubeconfig, env.context));
        } catch (e) {
          if (e instanceof KubeconfigError) throw new DeployFailed(`The environment's kubeconfig ${e.message}.`);
          throw e;
        }
      })();
      connecting.catch(() => (connecting = null));
    }
    return connecting;
  };
  const ns = env.namespace;
  const site: ClusterSite = {
    namespace: ns,
    ingressClass: env.ingressClass,
    tlsSecretName: env.tlsSecretName,
    labels: env.labels,
    registry: env.registry,
    push: (ref, name, log, signal) => opts.push(ref, env.registry!, name, log, signal),
  };
  const listPods = async (f: ReplicaFilter): Promise<Pod[]> => {
    try {
      return ((await (await kube()).core.listNamespacedPod({ namespace: ns, labelSelector: selectorOf(f) })).items ?? []) as unknown as Pod[];
    } catch (e) {
      if (statusOf(e) === 404) return [];
      throw e;
    }
  };
  const findReplicas = async (f: ReplicaFilter = {}) => numbered(await listPods(f)).filter((r) => f.replica === undefined || r.replica === f.replica);

  async function tailLog(id: string, tail: number): Promise<LogLine[] | null> {
    try {
      const text = await (await kube()).core.readNamespacedPodLog({ name: id, namespace: ns, tailLines: tail, timestamps: true });
      return String(text ?? "").split("\n").filter(Boolean).map(splitTimestamp);
    } catch (e) {
      if (statusOf(e) === 404 || statusOf(e) === 400) return null;
      throw e;
    }
  }

  /** The pod must exist; the stream is opened in the background so close() works before any output (or header) arrives. */
  async function followLog(id: string, tail: number | "all", onLine: (line: LogLine) => void) {
    const k = await kube();
    try {
      await k.core.readNamespacedPod({ name: id, namespace: ns });
    } catch (e) {
      if (statusOf(e) === 404) return null;
      throw e;
    }
    const abort = new AbortController();
    const q = new URLSearchParams({ follow: "true", timestamps: "true", ...(tail === "all" ? {} : { tailLines: String(tail) }) });
    const ended = (async () => {
      let partial = "";
      try {
        const res = await k.fetch(`/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(id)}/log?${q}`, { signal: abort.signal });
        if (!res.ok || !res.body) {
          await res.arrayBuffer().catch(() => {});
          return;
        }
        const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
        abort.signal.addEventListener("abort", () => void reader.cancel().catch(() => {}));
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          const parts = (partial + value).split("\n");
          partial = parts.pop() ?? "";
          for (const line of parts) onLine(splitTimestamp(line));
        }
      } catch {
        // closed by us, or the connection dropped
      }
      if (partial) onLine(splitTimestamp(partial));
    })();
    return { close: () => abort.abort(), ended };
  }

  async function check(): Promise<TargetCheck[]> {
    const out: TargetCheck[] = [];
    let k: Kube;
    try {
      k = await kube();
      await k.core.getAPIResources();
      out.push({ name: "api_server", ok: true, message: `reached ${parseKubeconfig(env.kubeconfig, env.context).server}` });
    } catch (e) {
      out.push({ name: "api_server", ok: false, message: e instanceof DeployFailed ? e.message : `cannot reach the API server: ${kubeMessage(e)}` });
      out.push({ name: "namespace", ok: false, message: "not checked: the API server is not reachable" });
      out.push(await registryCheck());
      return out;
    }
    out.push(await namespaceCheck(k));
    out.push(await registryCheck());
    return out;
  }

  async function namespaceCheck(k: Kube): Promise<TargetCheck> {
    const review = async (verb: string, resourcePath: string, group = "", namespace: string | undefined = ns) => {
      const [resource, subresource] = resourcePath.split("/");
      const attributes = { verb, resource, group, ...(subresource ? { subresource } : {}), ...(namespace ? { namespace } : {}) };
      const r = await k.authz.createSelfSubjectAccessReview({ body: { apiVersion: "authorization.k8s.io/v1", kind: "SelfSubjectAccessReview", spec: { resourceAttributes: attributes } } });
      return r.status?.allowed === true;
    };
    try {
      let exists = true;
      try {
        await k.core.readNamespace({ name: ns });
      } catch (e) {
        if (statusOf(e) !== 404 && statusOf(e) !== 403) throw e;
        exists = statusOf(e) === 404 ? false : exists;
      }
      const wanted: [string, string, string?][] = [
        ["patch", "deployments", "apps"],
        ["patch", "secrets"],
        ["patch", "services"],
        ["patch", "ingresses", "networking.k8s.io"],
        ["list", "pods"],
        ["get", "pods/log"],
        ["delete", "deployments", "apps"],
      ];
      const denied: string[] = [];
      for (const [verb, resource, group] of wanted) {
        const ok = await review(verb, resource, group ?? "").catch(() => false);
        if (!ok) denied.push(`${verb} ${resource}`);
      }
      if (!exists && !(await review("create", "namespaces", "", undefined).catch(() => false))) denied.unshift("create namespaces (the namespace does not exist yet)");
      if (denied.length) return { name: "namespace", ok: false, message: `not allowed in namespace ${ns}: ${denied.join(", ")}` };
      return { name: "namespace", ok: true, message: exists ? `namespace ${ns} exists; Ancla may manage its objects there` : `namespace ${ns} will be created on the first deploy` };
    } catch (e) {
      return { name: "namespace", ok: false, message: `cannot check rights in namespace ${ns}: ${kubeMessage(e)}` };
    }
  }

  async function registryCheck(): Promise<TargetCheck> {
    if (!env.registry) return { name: "registry", ok: false, message: "no registry_url set: the cluster needs a registry to pull images from" };
    try {
      return { name: "registry", ok: true, message: await opts.checkRegistry(env.registry) };
    } catch (e) {
      return { name: "registry", ok: false, message: `registry ${env.registry.url}: ${(e as Error).message}` };
    }
  }

  // metrics-server refreshes its window every 15–60 s: a cluster on this host is read every
  // sampler tick, a remote one at most every REMOTE_USAGE_INTERVAL_MS (one request per environment)
  const usageReader = (): UsageReader => {
    let server = "";
    try {
      server = parseKubeconfig(env.kubeconfig, env.context).server;
    } catch {
      // an unreadable kubeconfig fails the read itself, with its reason
    }
    return createMetricsReader(kube, ns, isLoopbackServer(server) ? undefined : REMOTE_USAGE_INTERVAL_MS);
  };

  return {
    kind: "kubernetes",
    ping: async () => void (await (await kube()).core.getAPIResources()),
    rollout: async (plan, hooks) => rolloutToCluster(await kube(), site, plan, hooks),
    findReplicas,
    async inspectReplica(id) {
      try {
        return replicaState((await (await kube()).core.readNamespacedPod({ name: id, namespace: ns })) as unknown as Pod);
      } catch (e) {
        if (statusOf(e) === 404) return null;
        throw e;
      }
    },
    async removeReplicas(ids, graceSeconds = 5) {
      const k = await kube();
      await Promise.all(ids.map((name) => k.core.deleteNamespacedPod({ name, namespace: ns, gracePeriodSeconds: graceSeconds }).catch(() => {})));
    },
    async teardown(serviceId) {
      const k = await kube();
      for (const kind of MANAGED_KINDS) {
        let objects;
        try {
          objects = await k.list(kind, ns, serviceSelector(serviceId));
        } catch (e) {
          if (statusOf(e) === 404) continue;
          throw e;
        }
        for (const o of objects) await k.remove(kind, ns, o.metadata.name);
      }
    },
    async logSources(serviceId) {
      return (await findReplicas({ serviceId })).filter((r) => r.running).map((r) => ({ id: r.id, process: r.process ?? "app", replica: r.replica ?? 0 }));
    },
    tailLog,
    followLog,
    usageReader,
    check,
    recoverInterrupted: async (serviceId, _deploymentId, log) => recoverFromRecord(await kube(), ns, serviceId, log),
    runOnce: async (plan, hooks) => runOneOffJob(await kube(), site, plan, hooks),
    stopOneOff: async (runId) => stopOneOffJobs(await kube(), ns, runId),
    volumes: {
      backup: async () => {
        throw new DeployFailed("Backing up a volume is not supported on a kubernetes environment yet (the data is in a PersistentVolumeClaim of the cluster).");
      },
      restore: async (_ref, _name, _image, tar) => {
        tar.resume(); // let the caller's upload run to its end: nothing else reads it
        throw new DeployFailed("Restoring a volume is not supported on a kubernetes environment yet (the data is in a PersistentVolumeClaim of the cluster).");
      },
      remove: async (ref, names) => removeClaims(await kube(), ns, ref, names),
    },
  };
}
