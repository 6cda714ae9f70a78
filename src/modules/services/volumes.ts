// A service's persistent volumes (name, mount path, size hint): their rules and rows. The runtime
// side (named volumes, backup, restore) is the exec module's; every process of the service mounts
// them (replicas, the release phase, runs).
import { and, asc, eq } from "drizzle-orm";
import { z } from "zod";
import type { Db } from "../../db/client";
import { serviceVolumes } from "../../db/schema";
import { Conflict, NotFound, Unprocessable } from "../../errors";
import { newId } from "../../lib/ids";

export type VolumeRow = typeof serviceVolumes.$inferSelect;
export const MAX_VOLUMES = 10;

const VOLUME_NAME = /^[a-z0-9](?:[a-z0-9-]{0,30}[a-z0-9])?$/;
// the container's own system paths: mounting over them breaks the container or the host's view of it
const RESERVED = ["/proc", "/sys", "/dev", "/bin", "/sbin", "/lib", "/lib64", "/usr", "/etc"];

export const volumeInput = z
  .object({
    name: z.string().regex(VOLUME_NAME, "must be 1-32 lowercase letters, digits and dashes (not at the ends)"),
    mount_path: z
      .string()
      .min(2)
      .max(200)
      .regex(/^\/[A-Za-z0-9._\/-]+$/, "must be an absolute path of letters, digits, '.', '_', '-' and '/'")
      .refine((p) => !p.split("/").some((seg) => seg === "." || seg === ".."), "may not contain '.' or '..' segments")
      .refine((p) => !p.endsWith("/") && !p.includes("//"), "must be a normalized path (no trailing or double slash)")
      .refine((p) => !RESERVED.some((r) => p === r || p.startsWith(`${r}/`)), `may not be a system path (${RESERVED.join(", ")})`),
    size_hint: z.string().regex(/^[1-9]\d{0,5}(?:Mi|Gi|Ti)$/, "must look like 512Mi, 10Gi or 1Ti").nullable().optional(),
  })
  .strict();
export type VolumeInput = z.infer<typeof volumeInput>;

export const volumeView = z.object({ name: z.string(), mount_path: z.string(), size_hint: z.string().nullable(), docker_volume: z.string(), created: z.string() });
export type VolumeView = z.infer<typeof volumeView>;

export const listVolumes = (db: Db, serviceId: string): VolumeRow[] =>
  db.select().from(serviceVolumes).where(eq(serviceVolumes.serviceId, serviceId)).orderBy(asc(serviceVolumes.name)).all();

export const findVolume = (db: Db, serviceId: string, name: string): VolumeRow | undefined =>
  db.select().from(serviceVolumes).where(and(eq(serviceVolumes.serviceId, serviceId), eq(serviceVolumes.name, name))).get();

/** Add a volume; 409 on a name or mount path the service already uses, 422 past the limit. */
export function addVolume(db: Db, serviceId: string, input: VolumeInput, now: string): VolumeRow {
  const existing = listVolumes(db, serviceId);
  if (existing.some((v) => v.name === input.name)) throw new Conflict(`This service already has a volume named '${input.name}'.`);
  if (existing.some((v) => v.mountPath === input.mount_path)) throw new Conflict(`Volume '${existing.find((v) => v.mountPath === input.mount_path)!.name}' is already mounted at ${input.mount_path}.`);
  const nested = existing.find((v) => input.mount_path.startsWith(`${v.mountPath}/`) || v.mountPath.startsWith(`${input.mount_path}/`));
  if (nested) throw new Conflict(`Mount path ${input.mount_path} overlaps volume '${nested.name}' at ${nested.mountPath}.`);
  if (existing.length >= MAX_VOLUMES) throw new Unprocessable(`A service may have at most ${MAX_VOLUMES} volumes.`, [{ path: "name", message: "too many volumes" }]);
  const row: VolumeRow = { id: newId(), serviceId, name: input.name, mountPath: input.mount_path, sizeHint: input.size_hint ?? null, createdAt: now };
  db.insert(serviceVolumes).values(row).run();
  return row;
}

/** Forget a volume (its data stays in the runtime until the service is deleted with delete_volumes). */
export function removeVolume(db: Db, serviceId: string, name: string): void {
  if (!findVolume(db, serviceId, name)) throw new NotFound("Volume");
  db.delete(serviceVolumes).where(and(eq(serviceVolumes.serviceId, serviceId), eq(serviceVolumes.name, name))).run();
}

/** What a target mounts. */
export const volumeMountsOf = (db: Db, serviceId: string) => listVolumes(db, serviceId).map((v) => ({ name: v.name, mountPath: v.mountPath, sizeHint: v.sizeHint }));
