// Pure data: a release → the Kubernetes objects Ancla server-side-applies for it (Namespace, the
// release's config Secret, a PersistentVolumeClaim per service volume, a Deployment per process
// type, for `web` a Service and an Ingress), a one-off (release phase, run) as a batch/v1 Job, and
// the registry pull Secret. No I/O here; apply.ts and oneoff.ts send these, the unit tests read
// them as data and validate each against the official schemas.
import { defaultNamespace, dnsLabel } from "../../lib/kube-names";
import { isWebProcess, type OneOffPlan, type RolloutPlan, type VolumeMount } from "../target";
import { LABEL } from "../labels";
import { DEFAULT_POD_CLASS, POD_CLASSES, type PodClass } from "../pod-classes";

/** The Procfile process that runs as the release phase (a Job per deploy), never as a Deployment. */
export const RELEASE_PROCESS = "release";
/** A PersistentVolumeClaim asks for this much when the volume has no size_hint. */
export const DEFAULT_VOLUME_SIZE = "1Gi";
/** A finished one-off Job is deleted by Ancla at once; the cluster's TTL controller removes it after this even if Ancla could not. */
export const ONE_OFF_TTL_SECONDS = 600;

// the pod classes as Kubernetes quantities, used as requests and limits ("500m", "1", "512Mi", "1Gi")
const quantity = (c: { cpus: number; memoryMiB: number }) => ({
  cpu: c.cpus >= 1 ? String(c.cpus) : `${c.cpus * 1000}m`,
  memory: c.memoryMiB % 1024 === 0 ? `${c.memoryMiB / 1024}Gi` : `${c.memoryMiB}Mi`,
});
export const POD_RESOURCES = Object.fromEntries(Object.entries(POD_CLASSES).map(([name, c]) => [name, quantity(c)])) as Record<PodClass, { cpu: string; memory: string }>;
export type PodClassName = PodClass;
export const podClassName = (name: string | undefined): PodClassName => (name && name in POD_CLASSES ? (name as PodClass) : DEFAULT_POD_CLASS);

export { LABEL } from "../labels";
export const ANNOTATION = { releaseVersion: "ancla.dev/release-version", deployment: "ancla.dev/deployment" } as const;
export const FIELD_MANAGER = "ancla";
export const PULL_SECRET = "ancla-registry";

export { defaultNamespace, dnsLabel };

export type KubeObject = { apiVersion: string; kind: string; metadata: { name: string; namespace?: string; labels?: Record<string, string>; annotations?: Record<string, string> }; [k: string]: unknown };

/** What the environment adds to a rollout plan on a cluster. */
export type KubeSite = {
  namespace: string;
  ingressClass: string | null;
  /** TLS secret for the Ingress; null: no TLS section */
  tlsSecretName: string | null;
  /** the image reference the cluster pulls (the pushed one) */
  image: string;
  /** generated hostname(s) and custom domains of the service */
  hostnames: string[];
  /** a pull secret exists in the namespace */
  pullSecret: boolean;
  /** --container-labels: put on every object */
  labels?: Record<string, string>;
};

export type KubeRelease = Pick<
  RolloutPlan,
  "org" | "project" | "env" | "service" | "serviceId" | "releaseId" | "releaseVersion" | "deploymentId" | "processes" | "vars" | "port" | "privileged" | "healthCheckPath" | "healthCheckHost" | "timeoutMs" | "counts" | "podClasses" | "volumes"
>;

export const deploymentName = (service: string, process: string) => dnsLabel(`${service}-${process}`);
export const serviceName = (service: string) => dnsLabel(service);
export const secretName = (service: string, version: number) => dnsLabel(`${service}-config-v${version}`);
/** `<service>-<volume>`: one claim per service volume, kept across releases. */
export const claimName = (service: string, volume: string) => dnsLabel(`${service}-${volume}`);
/** `<service>-<release|run>-<the run id's last 10 characters>`: unique per one-off. */
export const jobName = (service: string, kind: string, runId: string) => dnsLabel(`${service}-${kind}-${runId.replace(/-/g, "").slice(-10).toLowerCase()}`);

/** The label selector of everything of one service. */
export const serviceSelector = (serviceId: string) => `${LABEL.managed}=true,${LABEL.serviceId}=${serviceId}`;

export function baseLabels(r: Pick<KubeRelease, "org" | "project" | "env" | "service" | "serviceId">, site: Pick<KubeSite, "labels">): Record<string, string> {
  return {
    ...(site.labels ?? {}),
    [LABEL.managed]: "true",
    [LABEL.org]: r.org,
    [LABEL.project]: r.project,
    [LABEL.env]: r.env,
    [LABEL.service]: r.service,
    [LABEL.serviceId]: r.serviceId,
  };
}

/** Process types with a replica count: every process of the release but the release phase; unnamed counts run web once. */
export function wantedCounts(processes: Record<string, string | null>, counts: Record<string, number>): Record<string, number> {
  const anyCount = Object.keys(counts).length > 0;
  const out: Record<string, number> = {};
  for (const p of Object.keys(processes).filter((p) => p !== RELEASE_PROCESS).sort()) out[p] = Math.max(0, Math.floor(counts[p] ?? (!anyCount && isWebProcess(p) ? 1 : 0)));
  return out;
}

export function namespaceManifest(namespace: string, site: Pick<KubeSite, "labels">): KubeObject {
  return { apiVersion: "v1", kind: "Namespace", metadata: { name: namespace, labels: { ...(site.labels ?? {}), [LABEL.managed]: "true" } } };
}

export function configSecret(r: KubeRelease, site: KubeSite): KubeObject {
  const data: Record<string, string> = {};
  for (const [k, v] of Object.entries(r.vars)) data[k] = Buffer.from(v, "utf8").toString("base64");
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: {
      name: secretName(r.service, r.releaseVersion),
      namespace: site.namespace,
      labels: { ...baseLabels(r, site), [LABEL.role]: "config", [LABEL.release]: r.releaseId, [LABEL.version]: String(r.releaseVersion) },
    },
    type: "Opaque",
    data,
  };
}

/** The registry's pull secret (kubernetes.io/dockerconfigjson). */
export function pullSecret(namespace: string, registry: string, username: string, password: string, labels: Record<string, string> = {}): KubeObject {
  const auth = Buffer.from(`${username}:${password}`).toString("base64");
  const config = JSON.stringify({ auths: { [registry]: { username, password, auth } } });
  return {
    apiVersion: "v1",
    kind: "Secret",
    metadata: { name: PULL_SECRET, namespace, labels: { ...labels, [LABEL.managed]: "true", [LABEL.role]: "registry" } },
    type: "kubernetes.io/dockerconfigjson",
    data: { ".dockerconfigjson": Buffer.from(config).toString("base64") },
  };
}

/** A service volume's claim: ReadWriteOnce, the size hint (or 1Gi), the cluster's default storage class. */
export function claimManifest(r: Pick<KubeRelease, "org" | "project" | "env" | "service" | "serviceId">, site: Pick<KubeSite, "namespace" | "labels">, v: VolumeMount): KubeObject {
  return {
    apiVersion: "v1",
    kind: "PersistentVolumeClaim",
    metadata: { name: claimName(r.service, v.name), namespace: site.namespace, labels: { ...baseLabels(r, site), [LABEL.role]: "volume", [LABEL.volume]: v.name } },
    spec: { accessModes: ["ReadWriteOnce"], resources: { requests: { storage: v.sizeHint || DEFAULT_VOLUME_SIZE } } },
  };
}

/** The pod spec's `volumes` and the container's `volumeMounts` for the service's volumes (none: both empty). */
export function volumeParts(service: string, volumes: VolumeMount[] | undefined): { volumes: Record<string, unknown>[]; volumeMounts: Record<string, unknown>[] } {
  const vs = volumes ?? [];
  return {
    volumes: vs.map((v) => ({ name: `vol-${v.name}`, persistentVolumeClaim: { claimName: claimName(service, v.name) } })),
    volumeMounts: vs.map((v) => ({ name: `vol-${v.name}`, mountPath: v.mountPath })),
  };
}

export function deploymentManifest(r: KubeRelease, site: KubeSite, process: string, replicas: number): KubeObject {
  const web = isWebProcess(process);
  const podClass = podClassName(r.podClasses[process]);
  const base = baseLabels(r, site);
  const selector = { [LABEL.serviceId]: r.serviceId, [LABEL.process]: process };
  const podLabels = { ...base, [LABEL.process]: process, [LABEL.release]: r.releaseId, [LABEL.version]: String(r.releaseVersion), [LABEL.deployment]: r.deploymentId, [LABEL.podClass]: podClass };
  const command = r.processes[process];
  const vols = volumeParts(r.service, r.volumes);
  const container: Record<string, unknown> = {
    name: process,
    image: site.image,
    // Procfile lines are shell command lines (as on Heroku); they run inside the user's container
    ...(command ? { command: ["/bin/sh", "-c", command] } : {}),
    env: [{ name: "PORT", value: String(r.port) }],
    envFrom: [{ secretRef: { name: secretName(r.service, r.releaseVersion) } }],
    resources: { requests: { ...POD_RESOURCES[podClass] }, limits: { ...POD_RESOURCES[podClass] } },
    ...(vols.volumeMounts.length ? { volumeMounts: vols.volumeMounts } : {}),
    ...(r.privileged ? { securityContext: { privileged: true } } : {}),
  };
  if (web) {
    container.ports = [{ name: "http", containerPort: r.port, protocol: "TCP" }];
    container.readinessProbe = {
      httpGet: { path: r.healthCheckPath, port: r.port, scheme: "HTTP", ...(r.healthCheckHost ? { httpHeaders: [{ name: "Host", value: r.healthCheckHost }] } : {}) },
      periodSeconds: 2,
      timeoutSeconds: 2,
      failureThreshold: 3,
      successThreshold: 1,
    };
  }
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: {
      name: deploymentName(r.service, process),
      namespace: site.namespace,
      labels: { ...base, [LABEL.role]: "process", [LABEL.process]: process, [LABEL.release]: r.releaseId, [LABEL.version]: String(r.releaseVersion) },
      annotations: { [ANNOTATION.releaseVersion]: String(r.releaseVersion), [ANNOTATION.deployment]: r.deploymentId },
    },
    spec: {
      replicas,
      selector: { matchLabels: selector },
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      progressDeadlineSeconds: Math.max(10, Math.ceil(r.timeoutMs / 1000)),
      revisionHistoryLimit: 5,
      template: {
        metadata: { labels: podLabels, annotations: { [ANNOTATION.releaseVersion]: String(r.releaseVersion) } },
        spec: {
          containers: [container],
          ...(vols.volumes.length ? { volumes: vols.volumes } : {}),
          ...(site.pullSecret ? { imagePullSecrets: [{ name: PULL_SECRET }] } : {}),
          terminationGracePeriodSeconds: 30,
        },
      },
    },
  };
}

export type KubeOneOff = Pick<OneOffPlan, "org" | "project" | "env" | "service" | "serviceId" | "releaseId" | "releaseVersion" | "port" | "privileged" | "volumes" | "kind" | "runId" | "command" | "podClass" | "timeoutMs">;

/**
 * A one-off (the release phase, a run) as a batch/v1 Job: the release's image and config Secret,
 * the pod class resources, the service's volumes; one attempt (backoffLimit 0, restartPolicy
 * Never), stopped by the cluster at the timeout (activeDeadlineSeconds), removed by the TTL
 * controller if Ancla does not delete it first.
 */
export function jobManifest(o: KubeOneOff, site: Pick<KubeSite, "namespace" | "image" | "pullSecret" | "labels">): KubeObject {
  const podClass = podClassName(o.podClass);
  const vols = volumeParts(o.service, o.volumes);
  const labels = { ...baseLabels(o, site), [LABEL.role]: "one-off", [LABEL.oneOff]: o.kind, [LABEL.runId]: o.runId, [LABEL.release]: o.releaseId, [LABEL.version]: String(o.releaseVersion), [LABEL.podClass]: podClass };
  return {
    apiVersion: "batch/v1",
    kind: "Job",
    metadata: { name: jobName(o.service, o.kind, o.runId), namespace: site.namespace, labels },
    spec: {
      backoffLimit: 0,
      activeDeadlineSeconds: Math.max(1, Math.ceil(o.timeoutMs / 1000)),
      ttlSecondsAfterFinished: ONE_OFF_TTL_SECONDS,
      template: {
        metadata: { labels },
        spec: {
          restartPolicy: "Never",
          containers: [
            {
              name: o.kind,
              image: site.image,
              command: ["/bin/sh", "-c", o.command],
              env: [{ name: "PORT", value: String(o.port) }],
              envFrom: [{ secretRef: { name: secretName(o.service, o.releaseVersion) } }],
              resources: { requests: { ...POD_RESOURCES[podClass] }, limits: { ...POD_RESOURCES[podClass] } },
              ...(vols.volumeMounts.length ? { volumeMounts: vols.volumeMounts } : {}),
              ...(o.privileged ? { securityContext: { privileged: true } } : {}),
            },
          ],
          ...(vols.volumes.length ? { volumes: vols.volumes } : {}),
          ...(site.pullSecret ? { imagePullSecrets: [{ name: PULL_SECRET }] } : {}),
          terminationGracePeriodSeconds: 10,
        },
      },
    },
  };
}

export function serviceManifest(r: KubeRelease, site: KubeSite): KubeObject {
  return {
    apiVersion: "v1",
    kind: "Service",
    metadata: { name: serviceName(r.service), namespace: site.namespace, labels: { ...baseLabels(r, site), [LABEL.role]: "web" } },
    spec: {
      type: "ClusterIP",
      selector: { [LABEL.serviceId]: r.serviceId, [LABEL.process]: "web" },
      ports: [{ name: "http", port: 80, targetPort: r.port, protocol: "TCP" }],
    },
  };
}

export function ingressManifest(r: KubeRelease, site: KubeSite): KubeObject {
  const hosts = [...new Set(site.hostnames)];
  const backend = { service: { name: serviceName(r.service), port: { number: 80 } } };
  return {
    apiVersion: "networking.k8s.io/v1",
    kind: "Ingress",
    metadata: { name: serviceName(r.service), namespace: site.namespace, labels: { ...baseLabels(r, site), [LABEL.role]: "web" } },
    spec: {
      ...(site.ingressClass ? { ingressClassName: site.ingressClass } : {}),
      rules: hosts.map((host) => ({ host, http: { paths: [{ path: "/", pathType: "Prefix", backend }] } })),
      ...(site.tlsSecretName && hosts.length ? { tls: [{ hosts, secretName: site.tlsSecretName }] } : {}),
    },
  };
}

/** Everything one release wants in its namespace, in apply order (config before the Deployments that read it). */
export function releaseManifests(r: KubeRelease, site: KubeSite): KubeObject[] {
  const counts = wantedCounts(r.processes, r.counts);
  const objects: KubeObject[] = [namespaceManifest(site.namespace, site), configSecret(r, site)];
  for (const [process, n] of Object.entries(counts)) objects.push(deploymentManifest(r, site, process, n));
  if ("web" in counts) {
    objects.push(serviceManifest(r, site));
    if (site.hostnames.length) objects.push(ingressManifest(r, site));
  }
  return objects;
}
