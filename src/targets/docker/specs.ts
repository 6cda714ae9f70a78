// Pure data: a release's replica → Docker container create options, a project → its network.
// No I/O here; engine.ts executes these and the unit tests compare them with toEqual.
import { isWebProcess } from "../target";
import { LABEL } from "../labels";
import { DEFAULT_POD_CLASS, POD_CLASSES, type PodClass } from "../pod-classes";

export { isWebProcess };

export const RELEASE_PROCESS = "release";

export { LABEL } from "../labels";

export type ReplicaSpecInput = {
  org: string; // slugs: safe for names and DNS labels
  project: string;
  env: string;
  service: string;
  serviceId: string;
  releaseId: string;
  releaseVersion: number;
  deploymentId: string;
  process: string;
  replica: number;
  image: string;
  /** Procfile command; null runs the image's CMD. */
  command: string | null;
  /** Resolved config, plaintext (secrets already opened): only ever placed in the container env. */
  vars: Record<string, string>;
  port: number;
  podClass: string;
  privileged: boolean;
  network: string;
  /** Extra labels (e.g. a test run id). */
  labels?: Record<string, string>;
  volumes?: SpecVolume[];
};

export type ContainerSpec = {
  name: string;
  Image: string;
  Cmd?: string[];
  Env: string[];
  Labels: Record<string, string>;
  ExposedPorts?: Record<string, Record<string, never>>;
  HostConfig: {
    NanoCpus: number;
    Memory: number;
    RestartPolicy: { Name: "unless-stopped" | "no" };
    NetworkMode: string;
    Privileged: boolean;
    /** Docker's init (tini) as PID 1: forwards signals and reaps orphaned children. */
    Init: true;
    Mounts?: { Type: "volume"; Source: string; Target: string }[];
    PortBindings?: Record<string, { HostIp: string; HostPort: string }[]>;
    LogConfig: { Type: "json-file"; Config: Record<string, string> };
  };
  NetworkingConfig: { EndpointsConfig: Record<string, { Aliases: string[] }> };
};

export function podClassOf(name: string | undefined): PodClass {
  return name && name in POD_CLASSES ? (name as PodClass) : DEFAULT_POD_CLASS;
}

/** Docker-name-safe form of a process type (Procfile keys are free text). */
export const processSlug = (process: string): string => process.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 30) || "proc";

/**
 * `ancla-net-<project id>`: one user-defined bridge network per project, unique by construction (a
 * project id is a UUID of fixed form). Slugs are left out on purpose: they contain dashes, so org
 * `a`/project `b-c` and org `a-b`/project `c` once gave the same name, and a renamed slug would
 * move the project to another network.
 */
export const networkName = (projectId: string): string => `ancla-net-${projectId}`;

/** The name networks had before (not unique across tenants): still used while a network under it carries this project's labels (network.ts). */
export const legacyNetworkName = (org: string, project: string): string => `ancla-${org}-${project}`;

export type NetworkSpec = { Name: string; Driver: "bridge"; CheckDuplicate: boolean; Labels: Record<string, string> };

/** `name`: the network the project uses (network.ts finds it); else the name a new one gets. */
export function networkSpec(ref: { org: string; project: string; projectId: string }, labels: Record<string, string> = {}, name = networkName(ref.projectId)): NetworkSpec {
  return {
    Name: name,
    Driver: "bridge",
    CheckDuplicate: true,
    Labels: { ...labels, [LABEL.managed]: "true", [LABEL.org]: ref.org, [LABEL.project]: ref.project, [LABEL.projectId]: ref.projectId },
  };
}

export const replicaName = (i: ReplicaSpecInput): string =>
  `ancla-${i.org}-${i.project}-${i.env}-${i.service}-${processSlug(i.process)}-${i.replica}-${i.deploymentId.replace(/-/g, "").slice(-10)}`;

export function replicaLabels(i: ReplicaSpecInput): Record<string, string> {
  return {
    ...(i.labels ?? {}),
    [LABEL.managed]: "true",
    [LABEL.org]: i.org,
    [LABEL.project]: i.project,
    [LABEL.env]: i.env,
    [LABEL.service]: i.service,
    [LABEL.serviceId]: i.serviceId,
    [LABEL.release]: i.releaseId,
    [LABEL.version]: String(i.releaseVersion),
    [LABEL.process]: i.process,
    [LABEL.replica]: String(i.replica),
    [LABEL.deployment]: i.deploymentId,
    [LABEL.podClass]: podClassOf(i.podClass),
  };
}

/** Container create options for one replica of one process type. */
export function replicaSpec(i: ReplicaSpecInput): ContainerSpec {
  const pod = POD_CLASSES[podClassOf(i.podClass)];
  const portKey = `${i.port}/tcp`;
  const web = isWebProcess(i.process);
  const env = { ...i.vars, PORT: String(i.port) };
  const spec: ContainerSpec = {
    name: replicaName(i),
    Image: i.image,
    Env: Object.entries(env).map(([k, v]) => `${k}=${v}`),
    Labels: replicaLabels(i),
    HostConfig: {
      NanoCpus: Math.round(pod.cpus * 1e9),
      Memory: pod.memoryMiB * 1024 * 1024,
      RestartPolicy: { Name: "unless-stopped" },
      NetworkMode: i.network,
      Privileged: i.privileged,
      // The app is not PID 1, which the kernel shields from every signal it has no handler for:
      // an app without a SIGTERM handler stops when asked instead of at SIGKILL after the grace
      // period, and the children a shell or a worker leaves behind are reaped, not kept as zombies.
      Init: true,
      LogConfig: { Type: "json-file", Config: { "max-size": "10m", "max-file": "3" } },
    },
    NetworkingConfig: { EndpointsConfig: { [i.network]: { Aliases: [`${i.service}.${i.env}`] } } },
  };
  // Procfile lines are shell command lines by definition (as on Heroku); they run inside the
  // user's own container, never on the server.
  if (i.command) spec.Cmd = ["/bin/sh", "-c", i.command];
  const mounts = volumeMounts(i);
  if (mounts.length) spec.HostConfig.Mounts = mounts;
  if (web) {
    spec.ExposedPorts = { [portKey]: {} };
    // published on loopback only, on a port the engine picks; the router is the public door
    spec.HostConfig.PortBindings = { [portKey]: [{ HostIp: "127.0.0.1", HostPort: "" }] };
  }
  return spec;
}

/**
 * `ancla-vol-<service id>-<name>`: one Docker named volume per service volume, unique by
 * construction (a service id is a UUID of fixed form; a name is unique within its service).
 * Slugs are left out on purpose: they contain dashes, so org `a`/project `b-c` and org `a-b`/project
 * `c` once gave the same name, and a renamed slug would lose the data.
 */
export const volumeName = (i: { serviceId: string }, name: string): string => `ancla-vol-${i.serviceId}-${name}`;

/** The name volumes had before (not unique across tenants): still used for a volume that exists under it and carries this service's id. */
export const legacyVolumeName = (i: { org: string; project: string; env: string; service: string }, name: string): string => `ancla-${i.org}-${i.project}-${i.env}-${i.service}-${name}`;

/** `source`: the Docker volume the target found or made for it (volumes.ts); else the name it would get. */
export type SpecVolume = { name: string; mountPath: string; source?: string };

export function volumeMounts(i: { serviceId: string; volumes?: SpecVolume[] }) {
  return (i.volumes ?? []).map((v) => ({ Type: "volume" as const, Source: v.source ?? volumeName(i, v.name), Target: v.mountPath }));
}

export function volumeSpec(i: { org: string; project: string; env: string; service: string; serviceId: string }, name: string, labels: Record<string, string> = {}, source = volumeName(i, name)) {
  return {
    Name: source,
    Labels: { ...labels, [LABEL.org]: i.org, [LABEL.project]: i.project, [LABEL.env]: i.env, [LABEL.service]: i.service, [LABEL.volume]: name, [LABEL.serviceId]: i.serviceId },
  };
}

export type OneOffSpecInput = Omit<ReplicaSpecInput, "process" | "replica"> & { kind: "release" | "run"; runId: string; command: string };

/**
 * A one-off container: the replica spec of its release (config, limits, network, volumes) with
 * the command, no restart, no published port and one-off labels instead of replica labels.
 */
export function oneOffSpec(i: OneOffSpecInput): ContainerSpec {
  const base = replicaSpec({ ...i, process: i.kind, replica: 0 });
  const { [LABEL.managed]: _m, [LABEL.serviceId]: _s, [LABEL.replica]: _r, [LABEL.deployment]: _d, ...labels } = base.Labels;
  const { PortBindings: _p, ...hostConfig } = base.HostConfig;
  const { ExposedPorts: _e, ...rest } = base;
  return {
    ...rest,
    name: `ancla-${i.org}-${i.project}-${i.env}-${i.service}-${i.kind}-${i.runId.replace(/-/g, "").slice(-10)}`,
    Cmd: ["/bin/sh", "-c", i.command],
    Labels: { ...labels, [LABEL.oneOff]: i.kind, [LABEL.oneOffService]: i.serviceId, [LABEL.runId]: i.runId },
    HostConfig: { ...hostConfig, RestartPolicy: { Name: "no" } },
  };
}

/** Replica numbers to run per process type: the release's processes × the wanted counts. */
export function desiredReplicas(processes: Record<string, string | null>, counts: Record<string, number>): { process: string; replica: number }[] {
  const out: { process: string; replica: number }[] = [];
  // the release phase runs once per deploy as a one-off, never as a replica
  const names = Object.keys(processes).filter((p) => p !== RELEASE_PROCESS).sort();
  const anyCount = Object.keys(counts).length > 0;
  for (const process of names) {
    const n = counts[process] ?? (!anyCount && isWebProcess(process) ? 1 : 0);
    for (let r = 1; r <= n; r++) out.push({ process, replica: r });
  }
  return out;
}
