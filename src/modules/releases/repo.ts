// Release queries.
import { and, desc, eq, count, max, sql } from "drizzle-orm";
import { preparedPerDb, type Db } from "../../db/client";
import { images, releases } from "../../db/schema";

export type ReleaseRow = typeof releases.$inferSelect;
export type ImageRow = typeof images.$inferSelect;

export const findRelease = (db: Db, id: string) => db.select().from(releases).where(eq(releases.id, id)).get();

export const findReleaseByVersion = (db: Db, serviceId: string, version: number) =>
  db.select().from(releases).where(and(eq(releases.serviceId, serviceId), eq(releases.version, version))).get();

export const latestRelease = (db: Db, serviceId: string) =>
  db.select().from(releases).where(eq(releases.serviceId, serviceId)).orderBy(desc(releases.version)).limit(1).get();

export const listReleases = (db: Db, serviceId: string, limit: number, offset = 0) =>
  db.select().from(releases).where(eq(releases.serviceId, serviceId)).orderBy(desc(releases.version)).limit(limit).offset(offset).all();

export const countReleases = (db: Db, serviceId: string): number =>
  db.select({ n: count() }).from(releases).where(eq(releases.serviceId, serviceId)).get()?.n ?? 0;

export const latestBuiltImage = (db: Db, serviceId: string) =>
  db
    .select()
    .from(images)
    .where(and(eq(images.serviceId, serviceId), eq(images.status, "complete"), eq(images.pruned, false)))
    .orderBy(desc(images.version))
    .limit(1)
    .get();

/** Version and image version of every release of a service, by id. */
export const releaseVersionsOf = (db: Db, serviceId: string) =>
  db.select({ id: releases.id, version: releases.version, imageVersion: releases.imageVersion }).from(releases).where(eq(releases.serviceId, serviceId)).all();

export const findImage = (db: Db, id: string) => db.select().from(images).where(eq(images.id, id)).get();

export const insertRelease = (db: Db, row: typeof releases.$inferInsert) => db.insert(releases).values(row).returning().get();

/** Highest release version per service, in one query (list views). */
// the list views pass every service of an environment: one prepared statement taking the ids as a
// JSON array, instead of drizzle building `in (?, ?, …)` anew per call (~110 µs for 100 ids)
const latestVersionsQ = preparedPerDb((db) =>
  db
    .select({ serviceId: releases.serviceId, version: max(releases.version) })
    .from(releases)
    .where(sql`${releases.serviceId} in (select value from json_each(${sql.placeholder("ids")}))`)
    .groupBy(releases.serviceId)
    .prepare(),
);
export const latestVersionsOf = (db: Db, serviceIds: string[]) =>
  serviceIds.length === 0 ? [] : latestVersionsQ(db).all({ ids: JSON.stringify(serviceIds) });
