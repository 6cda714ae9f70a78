// The local Docker engine as a deploy target (targets/target.ts): rollouts with a health gate and
// a traffic switch (deploy.ts), replicas found by their dev.ancla.* labels, logs (logs.ts), usage
// from cgroup files (usage.ts), and the supervision Ancla does itself on Docker: events, restarts
// and replacements (events.ts, heal.ts). `labels` go on every container and network it creates.
import type { DockerClient } from "./client";
import { deployToDocker, probe, removeReplicas } from "./deploy";
import * as engine from "./engine";
import { watchContainerEvents } from "./events";
import { replaceReplica, waitReady } from "./heal";
import { followLog, tailLog } from "./logs";
import { ensureProjectNetwork } from "./network";
import { LABEL, replicaSpec } from "./specs";
import { createUsageReader } from "./usage";
import { execInReplica, runOneOff } from "./oneoff";
import { dockerVolumes, ensureVolumes } from "./volumes";
import type { DeployTarget, FoundReplica, ReplicaFilter, ReplicaPlan, Supervision } from "../target";

export type DockerTargetOptions = { labels?: Record<string, string> };

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
      // the project's network and the service's volumes as the rollout found them (an old-named one stays in use)
      const network = await ensureProjectNetwork(docker(), plan, labels);
      const volumes = await ensureVolumes(docker(), plan, labels);
      const spec = replicaSpec({ ...plan, command: plan.processes[plan.process] ?? null, network, volumes, labels });
      // another name than the container it replaces, which may still exist
      return replaceReplica(docker(), { ...spec, name: `${spec.name}-r${plan.attempt}-${Date.now().toString(36)}` }, check);
    },
  };

  return {
    kind: "docker",
    ping: async () => void (await docker().ping()),
    rollout: (plan, hooks) => deployToDocker(docker(), { ...plan, labels }, hooks),
    findReplicas,
    inspectReplica: (id, port) => engine.inspectReplica(docker(), id, port),
    removeReplicas: removeAll,
    async teardown(serviceId) {
      await removeAll((await findReplicas({ serviceId })).map((r) => r.id), 2);
      // one-off containers (a run, a release phase, a volume helper) of the service too; volumes stay
      await removeAll((await engine.listContainers(docker(), [`${LABEL.oneOffService}=${serviceId}`])).map((c) => c.id), 1);
    },
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
    runOnce: (plan, hooks) => runOneOff(docker(), { ...plan, labels }, hooks),
    async stopOneOff(runId) {
      await removeAll((await engine.listContainers(docker(), [`${LABEL.runId}=${runId}`])).map((c) => c.id), 1);
    },
    exec: (req) => execInReplica(docker(), req),
    volumes: dockerVolumes(docker, labels),
  };
}
