// Queries for runs and exec sessions (tables of db/schema/exec.ts).
import { and, count, desc, eq, gt, isNull, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { execSessions, runs, users } from "../../db/schema";

export type RunRow = typeof runs.$inferSelect;
export type ExecSessionRow = typeof execSessions.$inferSelect;

export const insertRun = (db: Db, row: typeof runs.$inferInsert) => db.insert(runs).values(row).returning().get();
export const updateRun = (db: Db, id: string, patch: Partial<typeof runs.$inferInsert>) => db.update(runs).set(patch).where(eq(runs.id, id)).run();
export const findRun = (db: Db, serviceId: string, id: string) => db.select().from(runs).where(and(eq(runs.serviceId, serviceId), eq(runs.id, id))).get();
/** Append output, keeping at most `cap` characters (the rest is counted by the caller). */
export const appendRunOutput = (db: Db, id: string, text: string) =>
  db.update(runs).set({ output: sql`${runs.output} || ${text}` }).where(eq(runs.id, id)).run();
export const listRuns = (db: Db, serviceId: string, limit: number, offset: number) =>
  db
    .select({ run: runs, username: users.username })
    .from(runs)
    .leftJoin(users, eq(users.id, runs.createdById))
    .where(eq(runs.serviceId, serviceId))
    .orderBy(desc(runs.createdAt), desc(runs.id))
    .limit(limit)
    .offset(offset)
    .all();
export const countRuns = (db: Db, serviceId: string) => db.select({ n: count() }).from(runs).where(eq(runs.serviceId, serviceId)).get()?.n ?? 0;
export const countRunningRuns = (db: Db, serviceId: string) =>
  db.select({ n: count() }).from(runs).where(and(eq(runs.serviceId, serviceId), eq(runs.status, "running"))).get()?.n ?? 0;
export const usernameOf = (db: Db, userId: string | null) => (userId ? db.select({ u: users.username }).from(users).where(eq(users.id, userId)).get()?.u ?? null : null);

export const insertExecSession = (db: Db, row: typeof execSessions.$inferInsert) => db.insert(execSessions).values(row).run();

/** Marks the session of this token used, atomically; undefined when unknown, used or expired. */
export const consumeExecToken = (db: Db, tokenHash: string, now: string, transport: string, remote: string | null): ExecSessionRow | undefined =>
  db
    .update(execSessions)
    .set({ usedAt: now, transport, remoteAddress: remote })
    .where(and(eq(execSessions.tokenHash, tokenHash), isNull(execSessions.usedAt), gt(execSessions.expiresAt, now)))
    .returning()
    .get();

export const updateExecSession = (db: Db, id: string, patch: Partial<typeof execSessions.$inferInsert>) => db.update(execSessions).set(patch).where(eq(execSessions.id, id)).run();

export const listExecSessions = (db: Db, orgId: string, limit: number, offset: number) =>
  db.select().from(execSessions).where(eq(execSessions.orgId, orgId)).orderBy(desc(execSessions.createdAt), desc(execSessions.id)).limit(limit).offset(offset).all();
export const countExecSessions = (db: Db, orgId: string) => db.select({ n: count() }).from(execSessions).where(eq(execSessions.orgId, orgId)).get()?.n ?? 0;
