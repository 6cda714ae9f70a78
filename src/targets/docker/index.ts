// The local Docker engine as a deploy target (targets/target.ts): rollouts with a health gate and
// a traffic switch (deploy.ts), replicas found by their dev.ancla.* labels, logs (logs.ts), usage
// from cgroup files (usage.ts), and the supervision Ancla does itself on Docker: events, restarts
// and replacements (events.ts, heal.ts). `labels` go on every container and network it creates.
// A teardown is final (lifecycle.ts): it returns once the engine lists no container of the service,
// and nothing of the service is created after it began (see DeployTarget.teardown).
import type { DockerClient } from "./client";
import { deployToDocker, probe, removeReplicas } from "./deploy";
import * as engine from "./engine";
import { watchContainerEvents } from "./events";
import { replaceReplica, waitReady } from "./heal";
import { followLog, tailLog } from "./logs";
import { ensureProjectNetwork } from "./network";
import { serviceGate } from "./lifecycle";
import { LABEL, networkName, replicaSpec } from "./specs";
import { createUsageReader } from "./usage";
import { execInReplica, runOneOff } from "./oneoff";
import { dockerVolumes, ensureVolumes } from "./volumes";
import { DeployFailed, type DeployTarget, type FoundReplica, type ReplicaFilter, type ReplicaPlan, type Supervision } from "../target";

export type DockerTargetOptions = {
  labels?: Record<string, string>;
  /** how long a teardown waits for the engine to remove the service's containers before it fails saying which are left (default 120 s) */
  teardownTimeoutMs?: number;
};

const TEARDOWN_TIMEOUT_MS = 120_000;

const filterLabels = (f: ReplicaFilter): string[] => [
  ...(f.serviceId !== undefined ? [`${LABEL.serviceId}=${f.serviceId}`] : []),
  ...(f.releaseId !== undefined ? [`${LABEL.release}=${f.releaseId}`] : []),
  ...(f.deploymentId !== undefined ? [`${LABEL.deployment}=${f.deploymentId}`] : []),
  ...(f.process !== undefined ? [`${LABEL.process}=${f.process}`] : []),
  ...(f.replica !== undefined ? [`${LABEL.replica}=${f.replica}`] : []),
];

const found = (c: engine.ManagedContainer): FoundReplica => ({
  id: c.id,
  serviceId: c.labels[LABEL.serviceId] ?? null,
  releaseId: c.labels[LABEL.release] ?? null,
  deploymentId: c.labels[LABEL.deployment] ?? null,
  process: c.labels[LABEL.process] ?? null,
  replica: c.labels[LABEL.replica] !== undefined ? Number(c.labels[LABEL.replica]) : null,
  running: c.state === "running",
});

/** `docker` is called on first use (the client is created lazily: `ancla --help` never pays for it). */
export function dockerTarget(docker: () => DockerClient, opts: DockerTargetOptions = {}): DeployTarget & { supervision: Supervision } {
  const labels = opts.labels ?? {};
  const gate = serviceGate();
  const findReplicas = async (filter: ReplicaFilter = {}) => (await engine.listManaged(docker(), filterLabels(filter))).map(found);
  const removeAll = (ids: string[], graceSeconds = 5) => removeReplicas(docker(), ids, graceSeconds);

  const supervision: Supervision = {
    watch: (hooks) =>
      watchContainerEvents(docker(), {
        onEvent: (e) => {
          const a = e.attributes;
          hooks.onEvent({
            id: e.id,
            action: e.action,
            serviceId: a[LABEL.serviceId] ?? null,
            process: a[LABEL.process] ?? null,
            replica: a[LABEL.replica] !== undefined ? Number(a[LABEL.replica]) : null,
            exitCode: a.exitCode !== undefined ? Number(a.exitCode) : null,
            time: e.time,
          });
        },
        onConnect: hooks.onConnect,
        onDisconnect: hooks.onDisconnect,
      }),
    probe,
    startReplica: (id) => engine.startExisting(docker(), id),
    waitReady: (id, check) => waitReady(docker(), id, check),
    async replaceReplica(plan: ReplicaPlan, check) {
      // never for a service torn down (and not deployed since): its removed replicas are not crashed ones
      const d = gate.client(docker(), gate.begin(plan.serviceId, "supervision"));
      // the project's network and the service's volumes as the rollout found them (an old-named one stays in use)
      const network = await ensureProjectNetwork(d, plan, labels);
      const volumes = await ensureVolumes(d, plan, labels);
      const spec = replicaSpec({ ...plan, command: plan.processes[plan.process] ?? null, network, volumes, labels });
      // another name than the container it replaces, which may still exist
      return replaceReplica(d, { ...spec, name: `${spec.name}-r${plan.attempt}-${Date.now().toString(36)}` }, check);
    },
  };

  return {
    kind: "docker",
    ping: async () => void (await docker().ping()),
    rollout: async (plan, hooks) => deployToDocker(gate.client(docker(), gate.begin(plan.serviceId, "rollout")), { ...plan, labels }, hooks),
    findReplicas,
    inspectReplica: (id, port) => engine.inspectReplica(docker(), id, port),
    removeReplicas: removeAll,
    async teardown(serviceId) {
      // closed first: a replacement, run or rollout step that begins now creates nothing, one on its
      // way to the engine is waited for (and undone), so the listing below misses nothing for good
      const ended = gate.close(serviceId);
      try {
        const limitMs = opts.teardownTimeoutMs ?? TEARDOWN_TIMEOUT_MS;
        const deadline = Date.now() + limitMs;
        let lastError = "";
        for (let round = 0; ; round++) {
          await gate.settled(serviceId, deadline);
          const replicas = (await findReplicas({ serviceId })).map((r) => r.id);
          // one-off containers (a run, a release phase, a volume helper) of the service too; volumes stay
          const oneOffs = (await engine.listContainers(docker(), [`${LABEL.oneOffService}=${serviceId}`])).map((c) => c.id);
          // done when the engine lists none (a container being removed is still listed) and no create is pending
          if (!replicas.length && !oneOffs.length && !gate.creating(serviceId)) return;
          if (Date.now() > deadline) {
            const left = [...replicas, ...oneOffs].map((id) => id.slice(0, 12));
            const within = `within ${Math.round(limitMs / 1000)} s`;
            throw new DeployFailed(
              left.length
                ? `The Docker engine did not remove ${left.length} container(s) of the service ${within} (${left.join(", ")})${lastError ? `: ${lastError}` : ""}. Remove them on the host (docker rm -f).`
                : `A container create of the service did not end ${within} (the Docker engine does not answer); nothing of the service is listed now.`,
            );
          }
          // a container already being removed (409) or a dead one is listed until the engine is done
          if (round > 0) await Bun.sleep(Math.min(1000, 100 * round));
          const remove = (ids: string[], grace: number) => Promise.all(ids.map((id) => engine.removeContainer(docker(), id, grace).catch((e) => void (lastError = (e as Error).message))));
          await Promise.all([remove(replicas, 2), remove(oneOffs, 1)]);
        }
      } finally {
        ended();
      }
    },
    // only the network under the unique name: an old-named one may be another tenant's of the same slugs
    removeProject: (projectId) => engine.removeNetwork(docker(), networkName(projectId)),
    async logSources(serviceId) {
      return (await findReplicas({ serviceId }))
        .filter((r) => r.running)
        .map((r) => ({ id: r.id, process: r.process ?? "app", replica: r.replica ?? 0 }))
        .sort((a, b) => (a.process === b.process ? a.replica - b.replica : a.process < b.process ? -1 : 1));
    },
    tailLog: (id, tail) => tailLog(docker(), id, tail),
    followLog: (id, tail, onLine) => followLog(docker(), id, tail, onLine),
    usageReader: () => createUsageReader(docker()),
    supervision,
    runOnce: async (plan, hooks) => runOneOff(gate.client(docker(), gate.begin(plan.serviceId, "other")), { ...plan, labels }, hooks),
    async stopOneOff(runId) {
      await removeAll((await engine.listContainers(docker(), [`${LABEL.runId}=${runId}`])).map((c) => c.id), 1);
    },
    exec: (req) => execInReplica(docker(), req),
    volumes: dockerVolumes(docker, labels, (serviceId) => gate.client(docker(), gate.begin(serviceId, "other"))),
  };
}
