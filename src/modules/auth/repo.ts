// Queries for the identity tables: users, browser sessions, API keys (only hashes are stored).
import { and, desc, eq, gt, inArray, lt, ne, or, sql } from "drizzle-orm";
import { countRows, preparedPerDb, type Db } from "../../db/client";
import { apiKeys, sessions, users } from "../../db/schema";

export type UserRow = typeof users.$inferSelect;

// every authenticated request: prepared once (see preparedPerDb)
const byId = preparedPerDb((db) => db.select().from(users).where(eq(users.id, sql.placeholder("id"))).prepare());
export const findUserById = (db: Db, id: string) => byId(db).get({ id });

export const findUserByLogin = (db: Db, login: string) =>
  db.select().from(users).where(or(eq(users.email, login), eq(users.username, login))).get();

export const insertUser = (db: Db, row: typeof users.$inferInsert) => db.insert(users).values(row).returning().get();

export const updateUser = (db: Db, id: string, patch: Partial<typeof users.$inferInsert>) =>
  db.update(users).set(patch).where(eq(users.id, id)).returning().get();

/** Usernames of these users (none asked: no query). */
export const usernamesOf = (db: Db, ids: string[]) => (ids.length ? db.select({ id: users.id, username: users.username }).from(users).where(inArray(users.id, ids)).all() : []);

export const listUsers = (db: Db, limit: number, offset: number) =>
  db.select().from(users).orderBy(users.username).limit(limit).offset(offset).all();

export const countUsers = (db: Db) => countRows(db, users);

export const insertSession = (db: Db, row: typeof sessions.$inferInsert) => db.insert(sessions).values(row).run();

// every request made with the session cookie: prepared once
const liveSessionQ = preparedPerDb((db) => db.select().from(sessions).where(and(eq(sessions.id, sql.placeholder("id")), gt(sessions.expiresAt, sql.placeholder("now")))).prepare());
export const findLiveSession = (db: Db, id: string, nowIso: string) => liveSessionQ(db).get({ id, now: nowIso });

export const deleteSession = (db: Db, id: string) => db.delete(sessions).where(eq(sessions.id, id)).run();

export const deleteUserSessions = (db: Db, userId: string) => db.delete(sessions).where(eq(sessions.userId, userId)).run();

/** Every session of the user but `keepId` (a password change keeps the browser that made it). */
export const deleteOtherSessions = (db: Db, userId: string, keepId: string) => db.delete(sessions).where(and(eq(sessions.userId, userId), ne(sessions.id, keepId))).run();

export const deleteExpiredSessions = (db: Db, nowIso: string) => db.delete(sessions).where(lt(sessions.expiresAt, nowIso)).run();

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
