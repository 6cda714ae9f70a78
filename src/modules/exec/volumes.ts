// A service's persistent volumes over HTTP: list/add/remove the settings (rows in services'
// volumes.ts), stream a backup (tar.gz of the volume) and restore one (tar or tar.gz). The data
// lives in the target (Docker named volumes); removing a setting or the service keeps it, unless
// the service is deleted with delete_volumes=true.
import { createReadStream } from "node:fs";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import { AppError, BadRequest, Conflict, NotFound, PayloadTooLarge, Unprocessable } from "../../errors";
import { boundedTar, TarTooLarge, UnsafeContext } from "../../lib/tar-safety";
import { DeployFailed, targetFor, type ServiceRef, type TargetEnv } from "../../targets/target";
import { assertMayDeploy } from "../envs/access";
import { assertKeyMayWrite } from "../auth/key-scopes";
import type { ServiceAccess } from "../services/access";
import * as volumes from "../services/volumes";
import { capableTarget, serviceRef, servingRelease } from "./release-run";
import { createSpoolFile, followFile } from "./spool";

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

// What each volume is busy with on this server (one server per data directory): a restore
// excludes any other restore or backup of the volume — two archives written at once mixed their
// files, and a backup taken meanwhile read a half-written volume. Backups may overlap each other.
type VolumeUse = { restoring: boolean; backups: number };
const uses = new WeakMap<object, Map<string, VolumeUse>>();

function claimVolume(deps: Deps, serviceId: string, volume: string, kind: "restore" | "backup"): () => void {
  let map = uses.get(deps.db);
  if (!map) uses.set(deps.db, (map = new Map()));
  const key = `${serviceId}\u0000${volume}`;
  const use = map.get(key) ?? { restoring: false, backups: 0 };
  if (use.restoring || (kind === "restore" && use.backups > 0)) {
    const running = use.restoring ? "a restore" : "a backup";
    throw new Conflict(`Volume ${volume} is busy: ${running} of it is running. Nothing was changed; try again once it has ended.`);
  }
  if (kind === "restore") use.restoring = true;
  else use.backups++;
  map.set(key, use);
  let released = false;
  return () => {
    if (released) return;
    released = true;
    if (kind === "restore") use.restoring = false;
    else use.backups--;
    if (!use.restoring && use.backups === 0) map.delete(key);
  };
}

const asConflict = (e: unknown): never => {
  throw e instanceof DeployFailed ? new Conflict(e.message) : e;
};

/** Every process at 0 (`ancla down`, a scale): replicas may still be stopping, and a restore waits for them as with wait_idle. */
const scaledToZero = (access: ServiceAccess) => Object.values(access.service.processCounts).every((n) => n === 0);

/** `?wait_idle=true`: the caller just scaled to 0; give stopping replicas this long, then insist nothing runs. */
export const IDLE_WAIT_MS = 30_000;

/** The volume's files as a gzip'd tar, streamed from a spool file Docker fills at disk speed (HEAD: the headers only). */
export async function backupVolume(deps: Deps, access: ServiceAccess, name: string, waitIdle = false, headOnly = false): Promise<Response> {
  assertMayDeploy(access);
  // a GET, but it hands out the app's data: a read-only key may not
  assertKeyMayWrite(access.actor.scopes ?? []);
  const v = volumeOf(deps, access, name);
  const target = capableTarget(deps, access, "volumes", "Volume backups");
  const release = servingRelease(deps, access, true);
  const headers = { "content-type": "application/gzip", "content-disposition": `attachment; filename="${access.service.slug}-${v.name}.tar.gz"` };
  // HEAD says whether a backup would be given, without making one (a whole copy of the volume)
  if (headOnly) return new Response(null, { headers });
  const done = claimVolume(deps, access.service.id, v.name, "backup");
  let tar: Readable;
  try {
    tar = (await target.volumes.backup(serviceRef(access), v.name, release.imageRef, waitIdle ? { idleWithinMs: IDLE_WAIT_MS } : {}).catch(asConflict)) as Readable;
  } catch (e) {
    done();
    throw e;
  }
  // Docker writes the archive into a spool file at disk speed (it holds a lock every image removal
  // waits for until it is done: no gzip in between); the client reads the file as it grows, gzipped
  // on the way, at its own pace (spool.ts)
  let spooled: Awaited<ReturnType<typeof createSpoolFile>>;
  try {
    spooled = await createSpoolFile(deps.config.dataDir, "backup", "the backup");
  } catch (e) {
    tar.destroy();
    done();
    throw e;
  }
  const { spool, file } = spooled;
  const written = pipeline(tar, file.createWriteStream());
  // the volume is free again once Docker has read it whole (or failed)
  void written.then(done, (e) => {
    done();
    deps.logger.warn("volume backup failed", { service: access.service.id, volume: v.name, error: (e as Error).message });
  });
  return new Response(followFile(spool, written).pipeThrough(new CompressionStream("gzip") as unknown as ReadableWritablePair<Uint8Array, Uint8Array>), { headers });
}

/** What a refused archive answers; `emptied`: the copy had begun, so the volume was left empty (the target's rule for a failed copy). */
function refusal(e: unknown, deps: Deps, volume: string, emptied: boolean): AppError {
  const after = emptied ? ` The restore stopped there and the volume ${volume} was left empty; nothing of the archive was kept.` : " Nothing was changed.";
  if (e instanceof TarTooLarge)
    return new PayloadTooLarge(
      e.kind === "bytes"
        ? `The volume archive unpacks to more than ${e.limit} bytes (--max-volume-restore-size).${after}`
        : `The volume archive has more than ${e.limit} entries (--max-volume-restore-entries).${after}`,
    );
  if (e instanceof UnsafeContext) return e.status === 400 ? new BadRequest(e.message + after) : e.status === 413 ? new PayloadTooLarge(e.message + after) : new Unprocessable(e.message + after);
  if (e instanceof AppError) return new AppError(e.status, e.message + after, e.code, e.exitCode);
  deps.logger.warn("reading a volume archive failed", { error: (e as Error).message });
  return new BadRequest(`The volume archive could not be read.${after}`);
}

/**
 * Replace the volume's contents with the body (tar, or tar.gz), streamed: the body is capped at
 * MAX_RESTORE_BYTES as received and the archive at --max-volume-restore-size bytes and
 * --max-volume-restore-entries entries as unpacked (lib/tar-safety boundedTar), so a gzip bomb
 * stops at the limit. Its first entry is checked before the volume is touched; a refusal after
 * the copy began leaves the volume empty.
 */
export async function restoreVolume(deps: Deps, access: ServiceAccess, name: string, request: Request, waitIdle = false) {
  assertMayDeploy(access);
  const v = volumeOf(deps, access, name);
  const target = capableTarget(deps, access, "volumes", "Volume restores");
  const release = servingRelease(deps, access, true);
  const body = request.body;
  if (!body) throw new Conflict("Send the archive (tar or tar.gz) as the request body.");
  const done = claimVolume(deps, access.service.id, v.name, "restore");
  try {
    return await restoreFrom({ deps, access, v, target, release, waitIdle }, body);
  } finally {
    done();
  }
}

/** One restore: of which volume of which service, into which target, with the serving release's image for its helper. */
type Restore = { deps: Deps; access: ServiceAccess; v: volumes.VolumeRow; target: ReturnType<typeof capableTarget>; release: ReturnType<typeof servingRelease>; waitIdle: boolean };

async function restoreFrom(r: Restore, body: ReadableStream<Uint8Array>): Promise<{ ok: boolean; bytes: number }> {
  const { deps, v } = r;
  const bounds = { maxBytes: deps.config.maxVolumeRestoreSize, maxEntries: deps.config.maxVolumeRestoreEntries };
  const { spool, file } = await createSpoolFile(deps.config.dataDir, "restore", "the archive");
  try {
    // the whole body is received into the spool file and checked as it comes (limits, entry types,
    // names), before Docker sees a byte: a slow client holds this request, never the engine
    let size = 0;
    async function* received() {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > MAX_RESTORE_BYTES) throw new PayloadTooLarge(`A volume archive may be at most ${MAX_RESTORE_BYTES / 1024 ** 3} GiB.`);
        await file.write(chunk).catch((e: Error) => {
          throw new AppError(507, `The server could not store the archive while receiving it (${e.message}).`, "insufficient_storage", 1);
        });
        yield chunk;
      }
    }
    try {
      for await (const _ of boundedTar(received(), bounds));
    } catch (e) {
      throw refusal(e, deps, v.name, false);
    }
    await file.close();
    // opened only once the target reads: a target that refuses first (Kubernetes) leaves no open
    // pending on a file this request then removes (an unhandled ENOENT ended the server)
    const spooled = (async function* () {
      yield* createReadStream(spool.path);
    })();
    await copyIntoVolume(r, boundedTar(spooled, bounds));
    return { ok: true, bytes: size };
  } finally {
    await file.close().catch(() => {});
    spool.remove();
  }
}

/** Docker empties the volume and unpacks the checked archive into it, read from the spool file at disk speed. */
async function copyIntoVolume({ deps, access, v, target, release, waitIdle }: Restore, chunks: AsyncGenerator<Buffer>): Promise<void> {
  let copying = false;
  let failed: unknown = null;
  const tar = Readable.from(
    (async function* () {
      copying = true; // the target reads only once it emptied the volume
      try {
        yield* chunks;
      } catch (e) {
        throw (failed = e);
      }
    })(),
    { objectMode: false },
  );
  try {
    await target.volumes.restore(serviceRef(access), v.name, release.imageRef, tar, { idleWithinMs: waitIdle || scaledToZero(access) ? IDLE_WAIT_MS : 0 });
  } catch (e) {
    const answer = failed ? refusal(failed, deps, v.name, true) : e instanceof DeployFailed && !copying ? new Conflict(e.message) : null;
    const error = answer ?? new Conflict(`The archive could not be restored: ${(e as Error).message.replace(/\.$/, "")}.${copying ? ` The volume ${v.name} was left empty.` : ""}`);
    // the app's data is gone until a complete archive is restored: the server log says so too, not only the answer
    if (copying) deps.logger.warn("volume restore failed; the volume was left empty", { service: access.service.id, volume: v.name, error: error.message });
    throw error;
  } finally {
    // also when the target never read it (its wrapper then never started): the unpacking and the body stop
    tar.destroy();
    void chunks.return(undefined).catch(() => {});
  }
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
