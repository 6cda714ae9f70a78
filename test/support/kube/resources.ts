// The resource types the test Kubernetes API server serves (group, version, plural, kind, scope,
// verbs, subresources) — the data behind discovery and routing — and the defaults and validation
// the real API server applies to the objects Ancla sends.
import { ApiError, nameProblem, matchesLabels, selectorRequirements, type Obj } from "./objects";

export type ResourceDef = {
  group: string;
  version: string;
  plural: string;
  singular: string;
  kind: string;
  namespaced: boolean;
  verbs: string[];
  shortNames?: string[];
  subresources?: string[];
  /** objects with a status subresource: the main endpoint ignores status, /status ignores the rest */
  statusSubresource?: boolean;
  /** metadata.generation is kept and bumped when the spec changes */
  generation?: boolean;
};

const RW = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"];

export const RESOURCES: ResourceDef[] = [
  { group: "", version: "v1", plural: "namespaces", singular: "namespace", kind: "Namespace", namespaced: false, verbs: RW.filter((v) => v !== "deletecollection"), shortNames: ["ns"], subresources: ["status"], statusSubresource: true },
  { group: "", version: "v1", plural: "secrets", singular: "secret", kind: "Secret", namespaced: true, verbs: RW },
  { group: "", version: "v1", plural: "configmaps", singular: "configmap", kind: "ConfigMap", namespaced: true, verbs: RW, shortNames: ["cm"] },
  { group: "", version: "v1", plural: "serviceaccounts", singular: "serviceaccount", kind: "ServiceAccount", namespaced: true, verbs: RW, shortNames: ["sa"] },
  { group: "", version: "v1", plural: "services", singular: "service", kind: "Service", namespaced: true, verbs: RW, shortNames: ["svc"], subresources: ["status"], statusSubresource: true },
  { group: "", version: "v1", plural: "pods", singular: "pod", kind: "Pod", namespaced: true, verbs: RW, shortNames: ["po"], subresources: ["status", "log"], statusSubresource: true, generation: true },
  { group: "", version: "v1", plural: "persistentvolumeclaims", singular: "persistentvolumeclaim", kind: "PersistentVolumeClaim", namespaced: true, verbs: RW, shortNames: ["pvc"], subresources: ["status"], statusSubresource: true },
  { group: "", version: "v1", plural: "events", singular: "event", kind: "Event", namespaced: true, verbs: RW, shortNames: ["ev"] },
  { group: "apps", version: "v1", plural: "deployments", singular: "deployment", kind: "Deployment", namespaced: true, verbs: RW, shortNames: ["deploy"], subresources: ["status", "scale"], statusSubresource: true, generation: true },
  { group: "apps", version: "v1", plural: "replicasets", singular: "replicaset", kind: "ReplicaSet", namespaced: true, verbs: RW, shortNames: ["rs"], subresources: ["status", "scale"], statusSubresource: true, generation: true },
  { group: "batch", version: "v1", plural: "jobs", singular: "job", kind: "Job", namespaced: true, verbs: RW, subresources: ["status"], statusSubresource: true, generation: true },
  { group: "networking.k8s.io", version: "v1", plural: "ingresses", singular: "ingress", kind: "Ingress", namespaced: true, verbs: RW, shortNames: ["ing"], subresources: ["status"], statusSubresource: true, generation: true },
  { group: "networking.k8s.io", version: "v1", plural: "ingressclasses", singular: "ingressclass", kind: "IngressClass", namespaced: false, verbs: RW, generation: true },
  { group: "authorization.k8s.io", version: "v1", plural: "selfsubjectaccessreviews", singular: "selfsubjectaccessreview", kind: "SelfSubjectAccessReview", namespaced: false, verbs: ["create"] },
];

export const METRICS_RESOURCES: ResourceDef[] = [
  { group: "metrics.k8s.io", version: "v1beta1", plural: "pods", singular: "", kind: "PodMetrics", namespaced: true, verbs: ["get", "list"] },
  { group: "metrics.k8s.io", version: "v1beta1", plural: "nodes", singular: "", kind: "NodeMetrics", namespaced: false, verbs: ["get", "list"] },
];

export const apiVersionOf = (d: ResourceDef) => (d.group ? `${d.group}/${d.version}` : d.version);
export const qualified = (d: ResourceDef) => (d.group ? `${d.plural}.${d.group}` : d.plural);

function defaultContainer(c: Obj): void {
  const tag = /^[^@]*:([^/:@]+)$/.exec(c.image ?? "")?.[1];
  c.imagePullPolicy ??= c.image?.includes("@") || (tag && tag !== "latest") ? "IfNotPresent" : "Always";
  c.terminationMessagePath ??= "/dev/termination-log";
  c.terminationMessagePolicy ??= "File";
  c.resources ??= {};
  for (const p of c.ports ?? []) p.protocol ??= "TCP";
  for (const probe of [c.readinessProbe, c.livenessProbe, c.startupProbe]) {
    if (!probe) continue;
    probe.timeoutSeconds ??= 1;
    probe.periodSeconds ??= 10;
    probe.successThreshold ??= 1;
    probe.failureThreshold ??= 3;
    if (probe.httpGet) probe.httpGet.scheme ??= "HTTP";
  }
}

export function defaultPodSpec(spec: Obj): void {
  spec.restartPolicy ??= "Always";
  spec.terminationGracePeriodSeconds ??= 30;
  spec.dnsPolicy ??= "ClusterFirst";
  spec.securityContext ??= {};
  spec.schedulerName ??= "default-scheduler";
  for (const c of spec.containers ?? []) defaultContainer(c);
}

let nextClusterIp = 10;

/** What the API server fills in before storing (so the same apply twice stores the same spec). */
export function applyDefaults(def: ResourceDef, obj: Obj, old: Obj | undefined): void {
  switch (def.kind) {
    case "Deployment": {
      const s = (obj.spec ??= {});
      s.replicas ??= 1;
      s.revisionHistoryLimit ??= 10;
      s.progressDeadlineSeconds ??= 600;
      s.strategy ??= { type: "RollingUpdate" };
      if (s.strategy.type === "RollingUpdate") s.strategy.rollingUpdate = { maxUnavailable: "25%", maxSurge: "25%", ...s.strategy.rollingUpdate };
      s.template ??= {};
      defaultPodSpec((s.template.spec ??= {}));
      break;
    }
    case "Pod":
      defaultPodSpec((obj.spec ??= {}));
      break;
    case "Job": {
      // as the real API server: a generated selector on the Job's uid, and its labels on the pod template
      const s = (obj.spec ??= {});
      s.parallelism ??= 1;
      s.completions ??= 1;
      s.backoffLimit ??= 6;
      s.completionMode ??= "NonIndexed";
      s.suspend ??= false;
      s.podReplacementPolicy ??= "TerminatingOrFailed";
      s.manualSelector ??= old?.spec?.manualSelector;
      if (s.manualSelector === undefined) delete s.manualSelector;
      const uid = old?.metadata.uid ?? obj.metadata.uid;
      const generated = { "batch.kubernetes.io/controller-uid": uid, "batch.kubernetes.io/job-name": obj.metadata.name, "controller-uid": uid, "job-name": obj.metadata.name };
      if (!s.manualSelector) {
        s.selector ??= old?.spec?.selector ?? { matchLabels: { "batch.kubernetes.io/controller-uid": uid } };
        s.template ??= {};
        s.template.metadata = { ...s.template.metadata, labels: { ...s.template.metadata?.labels, ...generated } };
      }
      s.template ??= {};
      defaultPodSpec((s.template.spec ??= {}));
      break;
    }
    case "PersistentVolumeClaim": {
      const s = (obj.spec ??= {});
      s.volumeMode ??= old?.spec?.volumeMode ?? "Filesystem";
      s.storageClassName ??= old?.spec?.storageClassName ?? "standard";
      if (old?.spec?.volumeName) s.volumeName ??= old.spec.volumeName;
      break;
    }
    case "ReplicaSet": {
      const s = (obj.spec ??= {});
      s.replicas ??= 1;
      s.template ??= {};
      defaultPodSpec((s.template.spec ??= {}));
      break;
    }
    case "Service": {
      const s = (obj.spec ??= {});
      s.type ??= "ClusterIP";
      s.sessionAffinity ??= "None";
      s.clusterIP ??= old?.spec?.clusterIP ?? `10.96.0.${nextClusterIp++ % 250}`;
      s.clusterIPs ??= [s.clusterIP];
      for (const p of s.ports ?? []) {
        p.protocol ??= "TCP";
        p.targetPort ??= p.port;
      }
      break;
    }
    case "Secret": {
      obj.type ??= old?.type ?? "Opaque";
      if (obj.stringData) {
        obj.data = { ...obj.data };
        for (const [k, v] of Object.entries(obj.stringData)) obj.data[k] = Buffer.from(String(v)).toString("base64");
        delete obj.stringData;
      }
      break;
    }
    case "Namespace":
      obj.spec ??= { finalizers: ["kubernetes"] };
      obj.status ??= old?.status ?? { phase: "Active" };
      obj.metadata.labels = { ...obj.metadata.labels, "kubernetes.io/metadata.name": obj.metadata.name };
      break;
    case "ServiceAccount":
    case "ConfigMap":
    case "Event":
    case "Ingress":
    case "IngressClass":
      break;
  }
}

function invalid(def: ResourceDef, name: string, causes: { field: string; message: string; reason?: string }[]): ApiError {
  const group = def.group ? `.${def.group}` : "";
  const text = causes.map((c) => `${c.field}: ${c.message}`).join(", ");
  return new ApiError(422, "Invalid", `${def.kind}${group} "${name}" is invalid: ${text}`, {
    name,
    group: def.group || undefined,
    kind: def.plural,
    causes: causes.map((c) => ({ reason: c.reason ?? "FieldValueInvalid", message: c.message, field: c.field })),
  });
}

/** The checks of the real API server that a client can trip over; throws 422 Invalid. */
export function validate(def: ResourceDef, obj: Obj, old: Obj | undefined): void {
  const name = obj.metadata?.name;
  const causes: { field: string; message: string; reason?: string }[] = [];
  const np = nameProblem(name, def.kind === "Namespace" || def.kind === "Service");
  if (np) causes.push({ field: "metadata.name", message: np, reason: np.startsWith("Required") ? "FieldValueRequired" : undefined });
  for (const [k, v] of Object.entries(obj.metadata?.labels ?? {})) {
    if (typeof v !== "string" || v.length > 63 || !/^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/.test(v)) causes.push({ field: "metadata.labels", message: `Invalid value: "${v}": a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.' (label ${k})` });
  }
  const podSpec = (spec: Obj | undefined, path: string) => {
    const cs = spec?.containers;
    if (!Array.isArray(cs) || cs.length === 0) causes.push({ field: `${path}.containers`, message: "Required value", reason: "FieldValueRequired" });
    for (const [i, c] of (cs ?? []).entries()) {
      if (!c?.name) causes.push({ field: `${path}.containers[${i}].name`, message: "Required value", reason: "FieldValueRequired" });
      if (!c?.image) causes.push({ field: `${path}.containers[${i}].image`, message: "Required value", reason: "FieldValueRequired" });
    }
  };
  if (def.kind === "Deployment" || def.kind === "ReplicaSet") {
    const s = obj.spec ?? {};
    if (!s.selector || (!s.selector.matchLabels && !s.selector.matchExpressions)) causes.push({ field: "spec.selector", message: "Required value", reason: "FieldValueRequired" });
    else if (!matchesLabels(s.template?.metadata?.labels, selectorRequirements(s.selector))) causes.push({ field: "spec.template.metadata.labels", message: `Invalid value: ${JSON.stringify(s.template?.metadata?.labels ?? {})}: \`selector\` does not match template \`labels\`` });
    if (old && JSON.stringify(old.spec?.selector) !== JSON.stringify(s.selector)) causes.push({ field: "spec.selector", message: `Invalid value: ${JSON.stringify(s.selector)}: field is immutable` });
    if (typeof s.replicas !== "number" || s.replicas < 0) causes.push({ field: "spec.replicas", message: `Invalid value: ${s.replicas}: must be greater than or equal to 0` });
    const ru = s.strategy?.rollingUpdate;
    if (ru && (ru.maxSurge === 0 || ru.maxSurge === "0%") && (ru.maxUnavailable === 0 || ru.maxUnavailable === "0%")) causes.push({ field: "spec.strategy.rollingUpdate.maxUnavailable", message: "Invalid value: 0: may not be 0 when `maxSurge` is 0" });
    podSpec(s.template?.spec, "spec.template.spec");
  }
  if (def.kind === "Pod") podSpec(obj.spec, "spec");
  if (def.kind === "Job") {
    const s = obj.spec ?? {};
    podSpec(s.template?.spec, "spec.template.spec");
    const rp = s.template?.spec?.restartPolicy;
    if (rp !== "Never" && rp !== "OnFailure") causes.push({ field: "spec.template.spec.restartPolicy", message: `Unsupported value: "${rp}": supported values: "OnFailure", "Never"`, reason: "FieldValueNotSupported" });
    if (typeof s.backoffLimit !== "number" || s.backoffLimit < 0) causes.push({ field: "spec.backoffLimit", message: `Invalid value: ${s.backoffLimit}: must be greater than or equal to 0` });
    if (s.activeDeadlineSeconds !== undefined && !(s.activeDeadlineSeconds > 0)) causes.push({ field: "spec.activeDeadlineSeconds", message: `Invalid value: ${s.activeDeadlineSeconds}: must be greater than 0` });
    if (old && JSON.stringify(old.spec?.template) !== JSON.stringify(s.template)) causes.push({ field: "spec.template", message: "Invalid value: field is immutable" });
    if (old && JSON.stringify(old.spec?.selector) !== JSON.stringify(s.selector)) causes.push({ field: "spec.selector", message: "Invalid value: field is immutable" });
  }
  if (def.kind === "PersistentVolumeClaim") {
    const s = obj.spec ?? {};
    if (!Array.isArray(s.accessModes) || s.accessModes.length === 0) causes.push({ field: "spec.accessModes", message: "Required value: at least 1 access mode is required", reason: "FieldValueRequired" });
    const storage = s.resources?.requests?.storage;
    if (storage === undefined) causes.push({ field: "spec.resources[storage]", message: "Required value", reason: "FieldValueRequired" });
    else if (!/^[0-9.]+([EPTGMK]i?|[mkMGTPE])?$/.test(String(storage))) causes.push({ field: "spec.resources.requests[storage]", message: `Invalid value: "${storage}": quantities must match the regular expression` });
    if (old) {
      const strip = (x: Obj) => ({ ...x, resources: undefined, volumeName: undefined });
      if (JSON.stringify(strip(old.spec ?? {})) !== JSON.stringify(strip(s))) causes.push({ field: "spec", message: "Forbidden: spec is immutable after creation except resources.requests and volumeAttributesClassName for bound claims", reason: "FieldValueForbidden" });
    }
  }
  if (def.kind === "Secret") {
    for (const [k, v] of Object.entries(obj.data ?? {})) {
      if (typeof v !== "string" || !/^[A-Za-z0-9+/]*={0,2}$/.test(v)) causes.push({ field: `data[${k}]`, message: "Invalid value: illegal base64 data" });
    }
    if (old && old.type !== obj.type) causes.push({ field: "type", message: `Invalid value: "${obj.type}": field is immutable` });
    if (obj.type === "kubernetes.io/dockerconfigjson") {
      try {
        JSON.parse(Buffer.from(obj.data?.[".dockerconfigjson"] ?? "", "base64").toString());
      } catch {
        causes.push({ field: "data[.dockerconfigjson]", message: "Invalid value: invalid JSON", reason: "FieldValueInvalid" });
      }
    }
  }
  if (def.kind === "Service") {
    const ports = obj.spec?.ports;
    if (obj.spec?.clusterIP !== "None" && (!Array.isArray(ports) || ports.length === 0)) causes.push({ field: "spec.ports", message: "Required value", reason: "FieldValueRequired" });
  }
  if (def.kind === "Ingress") {
    for (const [i, r] of (obj.spec?.rules ?? []).entries()) {
      for (const [j, p] of (r.http?.paths ?? []).entries()) {
        if (!p.pathType) causes.push({ field: `spec.rules[${i}].http.paths[${j}].pathType`, message: "Required value: pathType must be specified", reason: "FieldValueRequired" });
        if (!p.backend?.service?.name && !p.backend?.resource) causes.push({ field: `spec.rules[${i}].http.paths[${j}].backend`, message: "Required value", reason: "FieldValueRequired" });
      }
    }
  }
  if (causes.length) throw invalid(def, typeof name === "string" ? name : "", causes);
}
