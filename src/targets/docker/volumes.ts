// Persistent volumes of a service as Docker named volumes (`ancla-vol-<service id>-<name>`, unique
// by construction; a volume made before under the old slug name and carrying this service's id keeps
// being used): created with the service's id as a label before anything mounts them (a volume left
// by a deleted service, or made outside Ancla, is never handed to another service), copied out and
// back through a helper container that is created but never started.
import { statusOf, type DockerClient } from "./client";
import { LABEL, legacyVolumeName, volumeName, volumeSpec, type SpecVolume } from "./specs";
import { DeployFailed, type ServiceRef, type VolumeMount, type VolumeOpOptions } from "../target";

const HELPER_MOUNT = "/ancla-volume";

/** Thrown when a volume exists but another service (or no service of Ancla) owns it. */
export class VolumeNotOwned extends DeployFailed {}

const exists = async (docker: DockerClient, vol: string): Promise<{ Labels?: Record<string, string> | null } | null> =>
  docker
    .getVolume(vol)
    .inspect()
    .catch((e) => {
      if (statusOf(e) === 404) return null;
      throw e;
    });

/**
 * The Docker volume that holds the service's volume `name`: `ancla-vol-<service id>-<name>`, unless
 * only a volume under the old slug name exists and it carries this service's id (made before the
 * names were unique; its data stays in use). Another service's volume under the old name is never
 * picked: it is simply not this service's.
 */
export async function volumeSource(docker: DockerClient, ref: ServiceRef, name: string): Promise<string> {
  const current = volumeName(ref, name);
  if (await exists(docker, current)) return current;
  const legacy = legacyVolumeName(ref, name);
  const old = await exists(docker, legacy);
  return old?.Labels?.[LABEL.serviceId] === ref.serviceId ? legacy : current;
}

async function ensureVolume(docker: DockerClient, ref: ServiceRef, name: string, labels: Record<string, string>): Promise<string> {
  const spec = volumeSpec(ref, name, labels, await volumeSource(docker, ref, name));
  try {
    const info = await docker.getVolume(spec.Name).inspect();
    const owner = info.Labels?.[LABEL.serviceId];
    if (owner !== ref.serviceId)
      throw new VolumeNotOwned(`The Docker volume ${spec.Name} exists but does not belong to this service (left by a deleted service or made outside Ancla); remove it on the host or give the volume another name.`);
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
    await docker.createVolume(spec as never);
  }
  return spec.Name;
}

/** Throws VolumeNotOwned when the volume exists and is not this service's; a missing one is fine. */
async function assertOwned(docker: DockerClient, ref: ServiceRef, vol: string): Promise<void> {
  try {
    const info = await docker.getVolume(vol).inspect();
    if (info.Labels?.[LABEL.serviceId] !== ref.serviceId)
      throw new VolumeNotOwned(`The Docker volume ${vol} exists but does not belong to this service (left by a deleted service or made outside Ancla); remove it on the host or give the volume another name.`);
  } catch (e) {
    if (statusOf(e) !== 404) throw e;
  }
}

/** Create the service's volumes that do not exist yet; refuse volumes another service owns. The mounts come back with the Docker volume each uses. */
export async function ensureVolumes(docker: DockerClient, ref: ServiceRef & { volumes?: VolumeMount[] }, labels: Record<string, string> = {}): Promise<SpecVolume[]> {
  const out: SpecVolume[] = [];
  for (const v of ref.volumes ?? []) out.push({ name: v.name, mountPath: v.mountPath, source: await ensureVolume(docker, ref, v.name, labels) });
  return out;
}

/**
 * Removes the Docker volume `vol` if it is the service's own (one someone else made under the name
 * stays); a volume still held (409) is asked again for up to `waitMs` — Docker may hold it a moment
 * after the container that used it went.
 */
async function removeOwnVolume(docker: DockerClient, ref: ServiceRef, vol: string, waitMs: number): Promise<void> {
  for (const deadline = Date.now() + waitMs; ; await Bun.sleep(200)) {
    try {
      const info = await docker.getVolume(vol).inspect();
      if (info.Labels?.[LABEL.serviceId] === ref.serviceId) await docker.getVolume(vol).remove();
      return;
    } catch (e) {
      if (statusOf(e) === 404) return;
      if (statusOf(e) !== 409 || Date.now() >= deadline) throw e;
    }
  }
}

/** Recreates the service's volume empty (after a failed restore: nothing else mounts it). */
async function emptyVolume(docker: DockerClient, ref: ServiceRef, name: string, labels: Record<string, string>): Promise<void> {
  await removeOwnVolume(docker, ref, await volumeSource(docker, ref, name), 30_000);
  await ensureVolume(docker, ref, name, labels);
}

/** A stopped container with only the volume mounted: the Docker archive API reads and writes through it. */
async function withHelper<T>(docker: DockerClient, ref: ServiceRef, name: string, image: string, labels: Record<string, string>, use: (c: ReturnType<DockerClient["getContainer"]>) => Promise<T>): Promise<T> {
  const source = await ensureVolume(docker, ref, name, labels);
  const container = await docker.createContainer({
    Image: image,
    Cmd: ["true"],
    Labels: { ...labels, [LABEL.oneOff]: "volume", [LABEL.oneOffService]: ref.serviceId },
    NetworkDisabled: true,
    HostConfig: { Mounts: [{ Type: "volume", Source: source, Target: HELPER_MOUNT }], NetworkMode: "none" },
  } as never);
  try {
    return await use(container);
  } catch (e) {
    await container.remove({ force: true }).catch(() => {});
    throw e;
  }
}

const isRunning = (state: string) => state === "running" || state === "restarting" || state === "paused";

/** Throws DeployFailed when a running container still mounts the volume after `withinMs`. */
async function assertIdle(d: DockerClient, vol: string, name: string, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    const users = await d.listContainers({ all: true, filters: { volume: [vol] } });
    if (!users.some((u) => isRunning(u.State))) return;
    if (Date.now() >= deadline)
      throw new DeployFailed(`The volume ${name} is in use by running processes; scale the service to 0 (ancla down, or --scale-down) first, then scale it up again.`);
    await Bun.sleep(500);
  }
}

/**
 * `forOp(serviceId)`: the client a backup or restore creates through; the target's checks each
 * create against the service's teardown (lifecycle.ts), so one that began before the service was
 * torn down makes no helper container or volume after it.
 */
export function dockerVolumes(docker: () => DockerClient, labels: Record<string, string>, forOp: (serviceId: string) => DockerClient = () => docker()) {
  return {
    source: (ref: ServiceRef, name: string) => volumeSource(docker(), ref, name),
    async backup(ref: ServiceRef, name: string, image: string, opts: VolumeOpOptions = {}): Promise<NodeJS.ReadableStream> {
      const d = forOp(ref.serviceId);
      const vol = await volumeSource(d, ref, name);
      await assertOwned(d, ref, vol);
      if (opts.idleWithinMs !== undefined) await assertIdle(d, vol, name, opts.idleWithinMs);
      return withHelper(d, ref, name, image, labels, async (c) => {
        const stream = (await c.getArchive({ path: `${HELPER_MOUNT}/.` })) as NodeJS.ReadableStream;
        let removed = false;
        const remove = () => {
          if (!removed) (removed = true), void c.remove({ force: true }).catch(() => {});
        };
        stream.on("end", remove);
        stream.on("close", remove);
        stream.on("error", remove);
        return stream;
      });
    },
    async restore(ref: ServiceRef, name: string, image: string, tar: NodeJS.ReadableStream, opts: VolumeOpOptions = {}): Promise<void> {
      const d = forOp(ref.serviceId);
      const vol = await volumeSource(d, ref, name);
      // a volume someone else made under this name is refused before anything of its users is
      // looked at or removed
      await assertOwned(d, ref, vol);
      // an exact copy needs an empty volume: recreate it when nothing uses it, else refuse
      await assertIdle(d, vol, name, opts.idleWithinMs ?? 0);
      const users = await d.listContainers({ all: true, filters: { volume: [vol] } });
      for (const u of users) await d.getContainer(u.Id).remove({ force: true }).catch(() => {});
      // a stopped replica the engine is still removing (a scale to 0 just ended) holds the volume a moment longer
      await removeOwnVolume(d, ref, vol, 30_000);
      await withHelper(d, ref, name, image, labels, async (c) => {
        try {
          await c.putArchive(tar as never, { path: HELPER_MOUNT });
        } catch (e) {
          // a copy cut short (the archive was refused part way, Docker failed) leaves the volume
          // empty, never a part of the archive the app could take for all of it, and gives the
          // disk the part took back
          await c.remove({ force: true }).catch(() => {});
          await emptyVolume(d, ref, name, labels);
          throw e;
        }
        await c.remove({ force: true }).catch(() => {});
      });
    },
    /** After teardown(serviceId) returned: no container of the service mounts the volumes any more, so each goes at once. */
    async remove(ref: ServiceRef, names: string[]): Promise<void> {
      const d = docker();
      const refused: string[] = [];
      for (const name of names) {
        const source = await volumeSource(d, ref, name);
        const vol = d.getVolume(source);
        try {
          const info = await vol.inspect();
          if (info.Labels?.[LABEL.serviceId] !== ref.serviceId) continue; // not ours to remove
          await vol.remove();
        } catch (e) {
          if (statusOf(e) === 404) continue;
          if (statusOf(e) !== 409) throw e;
          // mounted by a container that is not the service's (its own are gone once teardown returned)
          const users = await d.listContainers({ all: true, filters: { volume: [source] } }).catch(() => []);
          refused.push(`${source}${users.length ? ` (mounted by container ${users.map((u) => u.Id.slice(0, 12)).join(", ")})` : ""}`);
        }
      }
      if (refused.length) throw new DeployFailed(`The Docker volume(s) ${refused.join(", ")} are still in use and were kept; remove those containers on the host, then the volumes (docker volume rm).`);
    },
  };
}
