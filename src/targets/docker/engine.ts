// Docker engine calls for deploys: networks, replica containers, their state and removal.
// Only dockerode calls live here; what to create is decided in specs.ts and deploy.ts.
import { statusOf, type DockerClient } from "./client";
import { LABEL, type ContainerSpec } from "./specs";
import { DeployFailed, type ReplicaState } from "../target";

export type ManagedContainer = { id: string; labels: Record<string, string>; state: string };

export type { ReplicaState };

// Docker reports "never" as the zero time
const realTime = (t: string | undefined): string | null => (t && !t.startsWith("0001-") ? t : null);


/**
 * A network of this name that is not this project's: a network carrying a project id is this
 * project's only with this project's id; one without (made under the old `ancla-<org>-<project>`
 * name, which is ambiguous across tenants: org "a-b" project "c" and org "a" project "b-c" both give
 * `ancla-a-b-c`) only with this project's org and project labels. Joining whatever carries the name
 * would put one organization's containers on another's private network.
 */
export function networkOwned(found: { Labels?: Record<string, string> | null }, spec: { Labels: Record<string, string> }): boolean {
  const labels = found.Labels ?? {};
  if (labels[LABEL.managed] !== "true") return false;
  if (labels[LABEL.projectId] !== undefined) return labels[LABEL.projectId] === spec.Labels[LABEL.projectId];
  return labels[LABEL.org] === spec.Labels[LABEL.org] && labels[LABEL.project] === spec.Labels[LABEL.project];
}

function assertNetworkOwned(found: { Labels?: Record<string, string> | null }, spec: { Name: string; Labels: Record<string, string> }): void {
  if (networkOwned(found, spec)) return;
  throw new DeployFailed(`The Docker network ${spec.Name} exists but belongs to another project (or was made outside Ancla); refused to join it. Remove that network on the host.`);
}

/** The network of this name, or null. */
export async function findNetwork(docker: DockerClient, name: string): Promise<{ Name: string; Labels?: Record<string, string> | null } | null> {
  return (await docker.listNetworks({ filters: { name: [name] } })).find((n) => n.Name === name) ?? null;
}

/** Creates the project network unless it exists (a concurrent create is fine: 409 means it exists); never joins another project's network. */
export async function ensureNetwork(docker: DockerClient, spec: { Name: string; Labels: Record<string, string> } & Record<string, unknown>): Promise<void> {
  const existing = await findNetwork(docker, spec.Name);
  if (existing) return assertNetworkOwned(existing, spec);
  try {
    await docker.createNetwork(spec as never);
  } catch (e) {
    if (statusOf(e) !== 409) throw e;
    assertNetworkOwned(await docker.getNetwork(spec.Name).inspect(), spec);
  }
}

/** Removes a network unless it is gone already; one that still has containers attached is refused by the engine (the error says so). */
export async function removeNetwork(docker: DockerClient, name: string): Promise<void> {
  try {
    await docker.getNetwork(name).remove();
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
  }
}

/** Create and start one replica; returns its id. A failed start leaves no container behind. */
export async function startContainer(docker: DockerClient, spec: ContainerSpec): Promise<string> {
  const container = await docker.createContainer(spec as never);
  try {
    await container.start();
  } catch (e) {
    await container.remove({ force: true }).catch(() => {});
    throw e;
  }
  return container.id;
}

/** Start an existing (stopped) container again; one already running is fine (304). */
export async function startExisting(docker: DockerClient, id: string): Promise<void> {
  try {
    await docker.getContainer(id).start();
  } catch (e) {
    if (statusOf(e) !== 304) throw e;
  }
}

export async function inspectReplica(docker: DockerClient, id: string, port: number): Promise<ReplicaState | null> {
  try {
    const info = await docker.getContainer(id).inspect();
    const binding = info.NetworkSettings?.Ports?.[`${port}/tcp`]?.find((b) => b.HostIp === "127.0.0.1") ?? info.NetworkSettings?.Ports?.[`${port}/tcp`]?.[0];
    return {
      running: info.State.Running === true,
      restarting: info.State.Restarting === true,
      status: String(info.State.Status ?? "unknown"),
      paused: info.State.Paused === true,
      health: (info.State as { Health?: { Status?: string } }).Health?.Status ?? null,
      finishedAt: realTime(info.State.FinishedAt),
      startedAt: realTime(info.State.StartedAt),
      exitCode: typeof info.State.ExitCode === "number" ? info.State.ExitCode : null, // the last exit, also while restarting
      oomKilled: info.State.OOMKilled === true,
      restartCount: info.RestartCount ?? 0,
      hostPort: binding?.HostPort ? Number(binding.HostPort) : null,
    };
  } catch (e) {
    if (statusOf(e) === 404) return null;
    throw e;
  }
}

/** Stop (SIGTERM, then SIGKILL after graceSeconds) and remove; a container already gone is fine. */
export async function removeContainer(docker: DockerClient, id: string, graceSeconds = 5): Promise<void> {
  const c = docker.getContainer(id);
  try {
    await c.stop({ t: graceSeconds });
  } catch (e) {
    const s = statusOf(e);
    if (s !== 304 && s !== 404) {
      // stop failed for another reason: force removal below still kills it
    }
  }
  try {
    await c.remove({ force: true });
  } catch (e) {
    const s = statusOf(e);
    if (s !== 404 && s !== 409) throw e; // 409: removal already in progress
  }
}

/** Containers carrying every given label (`key` or `key=value`), running or not. */
export async function listManaged(docker: DockerClient, labels: string[] = []): Promise<ManagedContainer[]> {
  const list = await docker.listContainers({ all: true, filters: { label: [`${LABEL.managed}=true`, ...labels] } });
  return list.map((c) => ({ id: c.Id, labels: c.Labels ?? {}, state: c.State }));
}

/** Any containers carrying every given label (one-off containers have no `managed` label). */
export async function listContainers(docker: DockerClient, labels: string[]): Promise<ManagedContainer[]> {
  const list = await docker.listContainers({ all: true, filters: { label: labels } });
  return list.map((c) => ({ id: c.Id, labels: c.Labels ?? {}, state: c.State }));
}

/** The last lines a container printed (stdout and stderr), for failure reasons. */
export async function containerTail(docker: DockerClient, id: string, lines = 20): Promise<string> {
  try {
    const buf = (await docker.getContainer(id).logs({ stdout: true, stderr: true, tail: lines, follow: false })) as unknown as Buffer;
    return demuxDockerLog(Buffer.from(buf)).trimEnd();
  } catch {
    return "";
  }
}

/** Docker's multiplexed log frames (8-byte header + payload) → text; plain text passes through. */
export function demuxDockerLog(buf: Buffer): string {
  let out = "";
  let i = 0;
  while (i + 8 <= buf.length && (buf[i] === 1 || buf[i] === 2 || buf[i] === 0) && buf[i + 1] === 0 && buf[i + 2] === 0 && buf[i + 3] === 0) {
    const len = buf.readUInt32BE(i + 4);
    out += buf.subarray(i + 8, i + 8 + len).toString("utf8");
    i += 8 + len;
  }
  return i === 0 ? buf.toString("utf8") : out;
}
