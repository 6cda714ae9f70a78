// A service's persistent volumes over HTTP: list/add/remove the settings (rows in services'
// volumes.ts), stream a backup (tar.gz of the volume) and restore one (tar or tar.gz). The data
// lives in the target (Docker named volumes); removing a setting or the service keeps it, unless
// the service is deleted with delete_volumes=true.
import { Readable, PassThrough } from "node:stream";
import { createGunzip, createGzip } from "node:zlib";
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import { Conflict, NotFound, PayloadTooLarge } from "../../errors";
import { DeployFailed, targetFor, type ServiceRef, type TargetEnv } from "../../targets/target";
import { assertMayDeploy } from "../envs/access";
import { assertKeyMayWrite } from "../auth/key-scopes";
import type { ServiceAccess } from "../services/access";
import * as volumes from "../services/volumes";
import { capableTarget, serviceRef, servingRelease } from "./release-run";

export const MAX_RESTORE_BYTES = 8 * 1024 ** 3;

/** The Docker volume a service volume lives in (the target says: an old volume keeps its old name); a target without such names shows the name Docker would use. */
async function dockerVolumeOf(deps: Deps, access: ServiceAccess, name: string): Promise<string> {
  const fallback = `ancla-vol-${access.service.id}-${name}`;
  try {
    const source = targetFor(deps, access.env).volumes?.source;
    return source ? await source(serviceRef(access), name) : fallback;
  } catch {
    return fallback; // the engine or cluster does not answer: the list still shows the settings
  }
}

export async function toVolumeView(deps: Deps, access: ServiceAccess, v: volumes.VolumeRow): Promise<volumes.VolumeView> {
  return { name: v.name, mount_path: v.mountPath, size_hint: v.sizeHint, docker_volume: await dockerVolumeOf(deps, access, v.name), created: v.createdAt };
}

export const listVolumeViews = (deps: Deps, access: ServiceAccess) => Promise.all(volumes.listVolumes(deps.db, access.service.id).map((v) => toVolumeView(deps, access, v)));

export function addVolume(deps: Deps, access: ServiceAccess, input: volumes.VolumeInput) {
  assertMayDeploy(access);
  return toVolumeView(deps, access, volumes.addVolume(deps.db, access.service.id, input, isoNow(deps)));
}

export function removeVolume(deps: Deps, access: ServiceAccess, name: string) {
  assertMayDeploy(access);
  volumes.removeVolume(deps.db, access.service.id, name);
  return { ok: true };
}

function volumeOf(deps: Deps, access: ServiceAccess, name: string): volumes.VolumeRow {
  const v = volumes.findVolume(deps.db, access.service.id, name);
  if (!v) throw new NotFound("Volume");
  return v;
}

const asConflict = (e: unknown): never => {
  throw e instanceof DeployFailed ? new Conflict(e.message) : e;
};

/** A gzip'd tar of the volume, streamed. */
/** `?wait_idle=true`: the caller just scaled to 0; give stopping replicas this long, then insist nothing runs. */
export const IDLE_WAIT_MS = 30_000;

export async function backupVolume(deps: Deps, access: ServiceAccess, name: string, waitIdle = false): Promise<Response> {
  assertMayDeploy(access);
  // a GET, but it hands out the app's data: a read-only key may not
  assertKeyMayWrite(access.actor.scopes ?? []);
  const v = volumeOf(deps, access, name);
  const target = capableTarget(deps, access, "volumes", "Volume backups");
  const release = servingRelease(deps, access, true);
  const tar = await target.volumes.backup(serviceRef(access), v.name, release.imageRef, waitIdle ? { idleWithinMs: IDLE_WAIT_MS } : {}).catch(asConflict);
  const gz = (tar as Readable).pipe(createGzip());
  const filename = `${access.service.slug}-${v.name}.tar.gz`;
  return new Response(Readable.toWeb(gz) as unknown as ReadableStream, { headers: { "content-type": "application/gzip", "content-disposition": `attachment; filename="${filename}"` } });
}

/** Replace the volume's contents with the body (tar, or tar.gz), which may be large: streamed under a byte cap. */
export async function restoreVolume(deps: Deps, access: ServiceAccess, name: string, request: Request, waitIdle = false) {
  assertMayDeploy(access);
  const v = volumeOf(deps, access, name);
  const target = capableTarget(deps, access, "volumes", "Volume restores");
  const release = servingRelease(deps, access, true);
  if (!request.body) throw new Conflict("Send the archive (tar or tar.gz) as the request body.");
  const raw = new PassThrough();
  let size = 0;
  let failed: Error | null = null;
  const reader = request.body.getReader();
  const first = await reader.read();
  const head = first.value ?? new Uint8Array();
  const gzipped = head[0] === 0x1f && head[1] === 0x8b;
  const out: NodeJS.ReadableStream = gzipped ? raw.pipe(createGunzip()) : raw;
  const pump = (async () => {
    let chunk = first;
    while (!chunk.done) {
      size += chunk.value.byteLength;
      if (size > MAX_RESTORE_BYTES) {
        failed = new PayloadTooLarge(`A volume archive may be at most ${MAX_RESTORE_BYTES / 1024 ** 3} GiB.`);
        raw.destroy(failed);
        return;
      }
      if (!raw.write(chunk.value)) await new Promise((r) => raw.once("drain", r));
      chunk = await reader.read();
    }
    raw.end();
  })();
  try {
    await target.volumes.restore(serviceRef(access), v.name, release.imageRef, out, { idleWithinMs: waitIdle ? IDLE_WAIT_MS : 0 });
  } catch (e) {
    if (failed) throw failed;
    if (e instanceof DeployFailed) throw new Conflict(e.message);
    throw new Conflict(`The archive could not be restored: ${(e as Error).message}`);
  } finally {
    await pump.catch(() => {});
  }
  if (failed) throw failed;
  return { ok: true, bytes: size };
}

/** After a service was deleted with delete_volumes: its volumes' data goes too (in the background, after its replicas). */
export function removeVolumesLater(deps: Deps, env: TargetEnv, ref: ServiceRef, names: string[]): void {
  if (!names.length) return;
  void (async () => {
    const target = targetFor(deps, env);
    // returns once nothing of the service is left to mount them (the service-removed hook's own
    // teardown may run alongside: each waits until the engine lists none)
    await target.teardown(ref.serviceId);
    await target.volumes?.remove(ref, names);
  })().catch((e) => deps.logger.warn("removing a deleted service's volumes failed", { service: ref.serviceId, error: (e as Error).message }));
}
