// Queries for API keys (only hashes are stored).
import { and, desc, eq, sql } from "drizzle-orm";
import { countRows, preparedPerDb, type Db } from "../../db/client";
import { apiKeys, users } from "../../db/schema";

export type KeyRow = typeof apiKeys.$inferSelect;

export const insertKey = (db: Db, row: typeof apiKeys.$inferInsert) => db.insert(apiKeys).values(row).returning().get();
// the key and its owner in one statement, prepared once (see preparedPerDb): runs on every request made with a key
const withOwner = preparedPerDb((db) =>
  db.select({ key: apiKeys, user: users }).from(apiKeys).innerJoin(users, eq(users.id, apiKeys.userId)).where(eq(apiKeys.hash, sql.placeholder("hash"))).prepare(),
);
export const findKeyWithOwner = (db: Db, hash: string) => withOwner(db).get({ hash });
export const findUserKey = (db: Db, userId: string, id: string) =>
  db.select().from(apiKeys).where(and(eq(apiKeys.id, id), eq(apiKeys.userId, userId))).get();
export const listUserKeys = (db: Db, userId: string, limit: number, offset: number) =>
  db.select().from(apiKeys).where(eq(apiKeys.userId, userId)).orderBy(desc(apiKeys.createdAt)).limit(limit).offset(offset).all();
export const countUserKeys = (db: Db, userId: string) => countRows(db, apiKeys, eq(apiKeys.userId, userId));
export const updateKey = (db: Db, id: string, patch: Partial<typeof apiKeys.$inferInsert>) =>
  db.update(apiKeys).set(patch).where(eq(apiKeys.id, id)).run();
export const deleteKey = (db: Db, id: string) => db.delete(apiKeys).where(eq(apiKeys.id, id)).run();
