// Queries for config variables (drizzle only; values are stored as given — sealed when secret).
import { and, asc, count, eq, inArray, or, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { configVars, teams, type ConfigScope } from "../../db/schema";

export type ConfigVarRow = typeof configVars.$inferSelect;
export type ScopeKey = { scope: ConfigScope; scopeId: string };

const atScope = (k: ScopeKey) => and(eq(configVars.scope, k.scope), eq(configVars.scopeId, k.scopeId));

export const listAtScope = (db: Db, k: ScopeKey) => db.select().from(configVars).where(atScope(k)).orderBy(asc(configVars.name)).all();

export const countAtScope = (db: Db, k: ScopeKey) => db.select({ n: count() }).from(configVars).where(atScope(k)).get()?.n ?? 0;

export const findByName = (db: Db, k: ScopeKey, name: string) =>
  db.select().from(configVars).where(and(atScope(k), eq(configVars.name, name))).get();

export const findById = (db: Db, k: ScopeKey, id: string) => db.select().from(configVars).where(and(atScope(k), eq(configVars.id, id))).get();

/** Every variable of several scopes in one query (the resolution chain). */
export const listAtScopes = (db: Db, keys: ScopeKey[]) => {
  const conds = keys.map(atScope).filter((c): c is SQL => c !== undefined);
  return db.select().from(configVars).where(or(...conds)).all();
};

export const namesAtScope = (db: Db, k: ScopeKey, names: string[]) =>
  names.length === 0 ? [] : db.select().from(configVars).where(and(atScope(k), inArray(configVars.name, names))).all();

export const insertVar = (db: Db, row: typeof configVars.$inferInsert) => db.insert(configVars).values(row).returning().get();

export const updateVar = (db: Db, id: string, patch: Partial<typeof configVars.$inferInsert>) =>
  db.update(configVars).set(patch).where(eq(configVars.id, id)).returning().get()!;

export const deleteVar = (db: Db, id: string) => db.delete(configVars).where(eq(configVars.id, id)).run();

/** Secret rows everywhere, and non-secret rows (for secret-looking names), for the server redactor. */
export const listAllVars = (db: Db) => db.select({ name: configVars.name, value: configVars.value, secret: configVars.secret }).from(configVars).all();

export const findTeam = (db: Db, orgId: string, slugOrId: string) =>
  db.select().from(teams).where(and(eq(teams.orgId, orgId), or(eq(teams.slug, slugOrId), eq(teams.id, slugOrId)))).get();
