// The deploy target interface: what Ancla asks of a runtime that runs releases — the local Docker
// engine (targets/docker) today, a Kubernetes cluster reached through a kubeconfig next
// (targets/kubernetes, issue 11). Plain data in, plain data out: a target imports no feature
// module, no job code and not the router. The deployments module turns releases into plans and
// keeps the records; images are built by the local Docker engine for every target.

export type TargetKind = "docker" | "kubernetes";

/** The environment fields that choose and configure its target (the kubeconfig stays sealed here). */
export type TargetEnv = { id: string; target: TargetKind; namespace: string | null; kubeconfig: string | null } & KubeEnvSettings;

/** A kubernetes environment's settings beyond the kubeconfig (sealed values stay sealed here; null: unset). */
export type KubeEnvSettings = {
  kubeContext?: string | null;
  ingressClass?: string | null;
  ingressTlsSecret?: string | null;
  registryUrl?: string | null;
  registryUsername?: string | null;
  registryPassword?: string | null;
};

/** One thing `check` verified: `message` says what failed (or what was found). */
export type TargetCheck = { name: string; ok: boolean; message: string };

/** This server cannot deploy to that kind of target: deployments there fail with this message. */
export class TargetUnavailable extends Error {
  constructor(readonly kind: string) {
    super(`The ${kind} target is not available on this server yet.`);
  }
}

/** The runtime serves no resource usage (a cluster without a metrics server): the message says why. */
export class UsageUnavailable extends Error {}

/** A rollout failed for a reason meant for the user (the deployment's error_detail and log). */
export class DeployFailed extends Error {}

/** A create refused because the service was torn down (or is being torn down): nothing of it starts again until its next rollout. */
export class ServiceRemoved extends DeployFailed {
  constructor() {
    super("The service is being removed: nothing more of it is started.");
  }
}

/** The process type that takes traffic (health checked over HTTP, routed to). */
export const isWebProcess = (process: string): boolean => process === "web";

/** Whose replicas these are: the slugs names are built from, the id they are found by. */
export type ServiceRef = { org: string; project: string; env: string; service: string; serviceId: string; projectId: string };

/** A release as a target runs it. `vars` is the resolved config in plaintext: it only ever goes to the runtime. */
export type ReleaseRun = ServiceRef & {
  releaseId: string;
  releaseVersion: number;
  deploymentId: string;
  image: string;
  /** process type → Procfile command (null: the image's own CMD) */
  processes: Record<string, string | null>;
  vars: Record<string, string>;
  port: number;
  privileged: boolean;
  /** the service's persistent volumes, mounted into every process (replicas, release phase, runs) */
  volumes?: VolumeMount[];
};

/** A persistent volume of a service; the target names it from the service's slugs and `name`. `sizeHint` (512Mi, 10Gi): what a cluster's claim asks for. */
export type VolumeMount = { name: string; mountPath: string; sizeHint?: string | null };

/**
 * A one-off process of a release: the release phase of a deploy (`kind: "release"`) or a run
 * someone asked for. Same image, config, pod class limits, network and volumes as the replicas;
 * removed once it exits. On a cluster this is a Job.
 */
export type OneOffPlan = ReleaseRun & { kind: "release" | "run"; runId: string; command: string; podClass: string; timeoutMs: number };
export type OneOffHooks = {
  signal?: AbortSignal;
  /** output as it comes (stdout and stderr interleaved), in chunks */
  output: (chunk: string) => void;
};
/** `exitCode` is null when it was stopped (timeout, abort) or never started. */
export type OneOffResult = { exitCode: number | null; timedOut: boolean; durationMs: number };

/** A command to run inside a running replica (exec). With `tty` the streams are one and resizable. */
export type ExecRequest = { replicaId: string; command: string[]; tty: boolean; cols?: number; rows?: number; term?: string };
export type ExecSession = {
  /** stdin */
  write: (data: Uint8Array) => void;
  /** stdin EOF */
  end: () => void;
  resize: (cols: number, rows: number) => Promise<void>;
  /** fd 1 or 2 (always 1 with a tty) */
  onOutput: (cb: (fd: 1 | 2, data: Uint8Array) => void) => void;
  /** resolves with the exit status once the command ended (null when unknown) */
  exited: Promise<number | null>;
  /** end the session from our side (the client went away) */
  close: () => void;
};

/** `idleWithinMs`: wait up to this long for processes that mount the volume to stop (replicas of a scale to 0 still stopping), then refuse while any runs; a backup only checks when it is given. */
export type VolumeOpOptions = { idleWithinMs?: number };

/** Persistent volumes of a service, by the name the user gave them. */
export type VolumeStore = {
  /** A tar stream of the volume's contents (an empty volume gives an empty archive). `image` is the service's, used to reach the volume. */
  backup: (ref: ServiceRef, name: string, image: string, opts?: VolumeOpOptions) => Promise<NodeJS.ReadableStream>;
  /** Replace the volume's contents with a tar stream; refused (DeployFailed) while a running process mounts it. A copy that fails part way (the stream errors, the runtime refuses) leaves the volume empty. */
  restore: (ref: ServiceRef, name: string, image: string, tar: NodeJS.ReadableStream, opts?: VolumeOpOptions) => Promise<void>;
  /** Remove the volumes (the service is deleted with delete_volumes), after teardown of the service returned; missing ones are fine, one still mounted by something else is refused (DeployFailed naming it). */
  remove: (ref: ServiceRef, names: string[]) => Promise<void>;
  /** Where the runtime keeps the volume (the Docker volume's name), shown to the user; absent where the target has no such name. */
  source?: (ref: ServiceRef, name: string) => Promise<string>;
};

/** A replica a deployment recorded as serving (the deployment's metadata keeps these). */
export type ServingReplica = { id: string; process: string; replica: number; hostPort: number | null; deploymentId: string; podClass: string; releaseId: string };

/** Everything one rollout (or in-place scale) of a release needs. */
export type RolloutPlan = ReleaseRun & {
  healthCheckPath: string;
  healthCheckHost: string | null;
  timeoutMs: number;
  /** a web replica answering 404 to the health path this long fails the rollout early (0 or absent: wait timeoutMs) */
  notFoundTimeoutMs?: number;
  counts: Record<string, number>;
  podClasses: Record<string, string>;
  /** replicas serving now (the latest complete deployment's) */
  current: ServingReplica[];
  /** a scale: replicas of the same release that are still wanted keep running */
  inPlace: boolean;
  /** the service's generated hostnames and custom domains (a cluster's Ingress routes them) */
  hostnames?: string[];
};

/** A web replica the app router can send traffic to (127.0.0.1:port). */
export type Backend = { id: string; port: number };

/** What a rollout reports and asks of its caller, in this order: steps and log lines, started, switch, commit. */
export type RolloutHooks = {
  signal?: AbortSignal;
  log: (line: string) => void;
  step: (name: string, index: number) => void;
  /** Ids right after creation, so a failed or interrupted rollout can remove them. */
  started: (ids: string[]) => void;
  /** Point the router at these web replicas; resolves once the replaced ones drained. */
  switchTraffic: (web: Backend[]) => Promise<void>;
  /** Persist the new serving set (the deployment becomes complete); old replicas are removed after. */
  commit: (serving: ServingReplica[]) => void;
};

/** Which replicas to find: every given field must match. */
export type ReplicaFilter = { serviceId?: string; releaseId?: string; deploymentId?: string; process?: string; replica?: number };

/** A replica as the runtime lists it (running or not), by the identity the target gave it. */
export type FoundReplica = {
  id: string;
  serviceId: string | null;
  releaseId: string | null;
  deploymentId: string | null;
  process: string | null;
  replica: number | null;
  running: boolean;
  /** its state, where the listing already says it (a cluster's pods); absent: ask inspectReplica */
  state?: ReplicaState;
};

/** One replica's state now. */
export type ReplicaState = {
  running: boolean;
  restarting: boolean;
  /** the runtime's own word: created, running, paused, restarting, removing, exited, dead … */
  status: string;
  paused: boolean;
  /** the image's own health check verdict (healthy, unhealthy, starting), null without one */
  health: string | null;
  /** ISO time of the last exit; null when it never exited */
  finishedAt: string | null;
  /** ISO time it last started (a restart moves it); null when it never ran */
  startedAt: string | null;
  exitCode: number | null;
  oomKilled: boolean;
  restartCount: number;
  /** port published on 127.0.0.1 for the web process, when any */
  hostPort: number | null;
};

/** When a replica started outside a rollout counts as ready. */
export type ReadyCheck = {
  /** container port of the web process */
  port: number;
  web: boolean;
  healthCheckPath: string;
  healthCheckHost: string | null;
  timeoutMs: number;
  signal?: AbortSignal;
};

/** A replica started in place of another (same release, process, number, pod class and deployment). */
export type ReplicaPlan = ReleaseRun & { process: string; replica: number; podClass: string; attempt: number };

/** Something happened to a replica (died, started, restarted, was removed …). */
export type ReplicaEvent = { id: string; action: string; serviceId: string | null; process: string | null; replica: number | null; exitCode: number | null; time: number };
export type EventHooks = {
  onEvent: (e: ReplicaEvent) => void;
  /** The stream is (again) open: anything may have happened meanwhile. */
  onConnect: () => void;
  onDisconnect: (error: string, retryInMs: number) => void;
};
export type EventWatcher = { stop: () => void; connected: () => boolean };

/** A running replica whose output can be read. */
export type LogSource = { id: string; process: string; replica: number };
/** One line of output; `ts` is the runtime's RFC 3339 time ("" when unknown). */
export type LogLine = { ts: string; text: string };
export type LogFollow = { close: () => void; ended: Promise<void> };

/** Resource counters of one replica at one instant; CPU is cumulative (callers take deltas), memory excludes page cache. */
export type UsageReading = {
  cpuUsec: number;
  memoryBytes: number;
  rxBytes: number | null;
  txBytes: number | null;
  /** where it was read: cgroup2, cgroup1, docker-api (a cluster: its metrics API) */
  source: "cgroup2" | "cgroup1" | "docker-api" | "metrics-api";
  /** performance.now() when read: CPU rates divide by real elapsed time between readings */
  atMs: number;
};
/** `generation` changes when the replica may have a new init process (it was restarted). */
export type UsageTarget = { id: string; generation?: number };
export type UsageReader = {
  /** Throws UsageUnavailable when the runtime serves no usage at all (a cluster without a metrics server). */
  read: (targets: UsageTarget[]) => Promise<Map<string, UsageReading>>;
  /** Read no more often than this (a remote cluster); absent: every sampler tick. */
  minIntervalMs?: number;
  /** Forget replicas not in `keep` (replaced, removed). */
  retain: (keep: Set<string>) => void;
};

/**
 * What Ancla does itself where the runtime does not: follow replicas' lifecycle events and bring
 * dead ones back (restart, or a replacement that must become ready). Docker has it; a cluster's
 * controllers restart and replace pods themselves, so a Kubernetes target leaves it out.
 */
export type Supervision = {
  watch: (hooks: EventHooks) => EventWatcher;
  /** One health request to a web replica on its 127.0.0.1 port: null when healthy, else the reason. */
  probe: (port: number, path: string, host: string | null) => Promise<string | null>;
  /** Start an exited replica again (one already running is fine); throws when it cannot start. */
  startReplica: (id: string) => Promise<void>;
  /** Wait until a running replica is ready; resolves with its host port (null when not web). */
  waitReady: (id: string, check: ReadyCheck) => Promise<number | null>;
  /** Start a new replica from the plan; removed again unless it becomes ready. */
  replaceReplica: (plan: ReplicaPlan, check: ReadyCheck) => Promise<{ id: string; hostPort: number | null }>;
};

export type DeployTarget = {
  kind: TargetKind;
  /** Resolves when the runtime answers; throws with the reason otherwise. */
  ping: () => Promise<void>;
  /** Start the release's replicas, wait until ready, switch traffic, commit, remove what no longer serves. Throws DeployFailed. */
  rollout: (plan: RolloutPlan, hooks: RolloutHooks) => Promise<ServingReplica[]>;
  /** Replicas (running or not) Ancla created, matching the filter. */
  findReplicas: (filter?: ReplicaFilter) => Promise<FoundReplica[]>;
  /** One replica's state; null when it no longer exists. */
  inspectReplica: (id: string, port: number) => Promise<ReplicaState | null>;
  /** Stop (after graceSeconds) and remove replicas; missing ones are fine. */
  removeReplicas: (ids: string[], graceSeconds?: number) => Promise<void>;
  /**
   * Remove everything of a service (it or its environment was deleted) but its volumes. Final once
   * it resolves: nothing of the service is brought back (no supervision pass, no controller), and
   * only a rollout begun after it returned deploys the service again. Throws when something could
   * not be removed, saying what. Docker: resolves only when the engine lists no container of the
   * service (replicas and one-offs), so nothing holds its images or volumes any more; an operation
   * already going (a replacement, a rollout step, a run, a volume helper) creates nothing after it
   * began, a create on its way is waited for and undone; still listed after 120 s → fails naming
   * them. Kubernetes: resolves once the service's Deployments, Jobs, Services, Ingresses and
   * Secrets are deleted; their pods terminate in the cluster's own time with no controller left to
   * bring one back, and a claim deleted meanwhile (VolumeStore.remove) goes once its last pod ended.
   */
  teardown: (serviceId: string) => Promise<void>;
  /**
   * A deleted project's own resources beyond its services (after their teardown): on Docker the
   * project's network `ancla-net-<project id>` (the engine has a limited number of address pools:
   * a network left behind by every deleted project would stop new ones from deploying). Absent where
   * a project has nothing of its own.
   */
  removeProject?: (projectId: string) => Promise<void>;
  /** Running replicas of a service, by process then replica number. */
  logSources: (serviceId: string) => Promise<LogSource[]>;
  /** The last `tail` lines of one replica; null when it is gone. */
  tailLog: (id: string, tail: number) => Promise<LogLine[] | null>;
  /** Follow one replica's output from its last `tail` lines ("all": everything); null when it is gone. */
  followLog: (id: string, tail: number | "all", onLine: (line: LogLine) => void) => Promise<LogFollow | null>;
  /** A reader of its replicas' resource usage (metrics). */
  usageReader: () => UsageReader;
  supervision?: Supervision;
  /** Verify the target is usable (connection, rights, registry), each check saying what failed. */
  check?: () => Promise<TargetCheck[]>;
  /**
   * After a crash mid-rollout (declarative targets): bring the service back to its last committed
   * state. Where present it replaces removing the interrupted deployment's replicas.
   */
  recoverInterrupted?: (serviceId: string, deploymentId: string, log: (line: string) => void) => Promise<void>;
  /** Run a one-off process to its end (release phase, runs); absent where the target cannot yet. */
  runOnce?: (plan: OneOffPlan, hooks: OneOffHooks) => Promise<OneOffResult>;
  /** Stop and remove a one-off by its run id (after a crash interrupted its caller); a missing one is fine. */
  stopOneOff?: (runId: string) => Promise<void>;
  /** Start a command in a running replica; absent where the target cannot yet. */
  exec?: (req: ExecRequest) => Promise<ExecSession>;
  /** Persistent volumes; absent where the target cannot yet. */
  volumes?: VolumeStore;
};

export type Targets = {
  /** The target an environment deploys to; throws TargetUnavailable when this server has none of that kind. */
  forEnv: (env: TargetEnv) => DeployTarget;
  /** The local Docker engine: images are built there for every environment, and its replicas are the ones the app router serves and Ancla supervises. */
  local: DeployTarget & { supervision: Supervision };
};

/** The target of an environment (deps.targets is built by the composition root, deps.ts). */
export const targetFor = (deps: { targets: Targets }, env: TargetEnv): DeployTarget => deps.targets.forEnv(env);

/** The target of an environment when Ancla supervises its replicas itself; null otherwise (or when unavailable). */
export function supervisedTarget(deps: { targets: Targets }, env: Pick<TargetEnv, "target">): Targets["local"] | null {
  return env.target === deps.targets.local.kind ? deps.targets.local : null;
}
