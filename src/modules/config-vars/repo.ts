// Queries for config variables (drizzle only; values are stored as given — sealed when secret).
// The scope chain is read by joining services, environments and projects; only config_vars is written.
import { and, asc, count, eq, inArray, or, sql, type SQL } from "drizzle-orm";
import type { Db } from "../../db/client";
import { configVars, environments, projects, services, type ConfigScope } from "../../db/schema";

export type ConfigVarRow = typeof configVars.$inferSelect;
export type ScopeKey = { scope: ConfigScope; scopeId: string };

const atScope = (k: ScopeKey) => and(eq(configVars.scope, k.scope), eq(configVars.scopeId, k.scopeId));

export const listAtScope = (db: Db, k: ScopeKey) => db.select().from(configVars).where(atScope(k)).orderBy(asc(configVars.name)).all();

export const countAtScope = (db: Db, k: ScopeKey) => db.select({ n: count() }).from(configVars).where(atScope(k)).get()?.n ?? 0;

export const findByName = (db: Db, k: ScopeKey, name: string) =>
  db.select().from(configVars).where(and(atScope(k), eq(configVars.name, name))).get();

export const findById = (db: Db, k: ScopeKey, id: string) => db.select().from(configVars).where(and(atScope(k), eq(configVars.id, id))).get();

/** Every variable of several scopes in one query. */
export const listAtScopes = (db: Db, keys: ScopeKey[]) => {
  const conds = keys.map(atScope).filter((c): c is SQL => c !== undefined);
  return db.select().from(configVars).where(or(...conds)).all();
};

// Resolution runs on every build, release and `resolved` read: its two queries are prepared once
// per connection and select only the columns resolution needs.
const CHAIN = ["organization", "team", "project", "environment", "service"] as const;
const slot = (i: number) => and(eq(configVars.scope, sql.placeholder(`s${i}`)), eq(configVars.scopeId, sql.placeholder(`i${i}`)));
const prepareChainVars = (db: Db) =>
  db
    .select({ name: configVars.name, value: configVars.value, secret: configVars.secret, buildtime: configVars.buildtime, scope: configVars.scope, scopeId: configVars.scopeId })
    .from(configVars)
    .where(or(...CHAIN.map((_, i) => slot(i))))
    .prepare();
const prepareChainIds = (db: Db) =>
  db
    .select({ serviceId: services.id, envId: services.envId, projectId: projects.id, teamId: projects.teamId, orgId: projects.orgId })
    .from(services)
    .innerJoin(environments, eq(environments.id, services.envId))
    .innerJoin(projects, eq(projects.id, environments.projectId))
    .where(eq(services.id, sql.placeholder("id")))
    .prepare();
const prepared = new WeakMap<Db, { vars: ReturnType<typeof prepareChainVars>; ids: ReturnType<typeof prepareChainIds> }>();
const statements = (db: Db) => {
  let p = prepared.get(db);
  if (!p) prepared.set(db, (p = { vars: prepareChainVars(db), ids: prepareChainIds(db) }));
  return p;
};

export type ChainVarRow = ReturnType<ReturnType<typeof prepareChainVars>["all"]>[number];

/** The ids of a service's scope chain (team null when the project has none). */
export const findServiceChainIds = (db: Db, serviceId: string) => statements(db).ids.get({ id: serviceId });

/** Variables of the given chain slots (at most five; a missing level matches nothing). */
export function listChainVars(db: Db, keys: ScopeKey[]): ChainVarRow[] {
  const params: Record<string, string> = {};
  CHAIN.forEach((_, i) => {
    params[`s${i}`] = keys[i]?.scope ?? "";
    params[`i${i}`] = keys[i]?.scopeId ?? "";
  });
  return statements(db).vars.all(params);
}

export const namesAtScope = (db: Db, k: ScopeKey, names: string[]) =>
  names.length === 0 ? [] : db.select().from(configVars).where(and(atScope(k), inArray(configVars.name, names))).all();

export const insertVar = (db: Db, row: typeof configVars.$inferInsert) => db.insert(configVars).values(row).returning().get();

export const updateVar = (db: Db, id: string, patch: Partial<typeof configVars.$inferInsert>) =>
  db.update(configVars).set(patch).where(eq(configVars.id, id)).returning().get()!;

export const deleteVar = (db: Db, id: string) => db.delete(configVars).where(eq(configVars.id, id)).run();

/**
 * Config variables point at their owner by (scope, scope_id) without a foreign key, so deleting
 * an owner removes its variables and those of everything below it (in the caller's transaction).
 */
export function deleteConfigBelow(db: Db, level: "project" | "environment" | "service", id: string) {
  const svcIds =
    level === "service" ? sql`(${id})` : sql`(select id from services where ${sql.raw(level === "project" ? "project_id" : "env_id")} = ${id})`;
  const envIds = level === "project" ? sql`(select id from environments where project_id = ${id})` : sql`(${level === "environment" ? id : ""})`;
  db.delete(configVars)
    .where(
      or(
        and(eq(configVars.scope, "service"), sql`${configVars.scopeId} in ${svcIds}`),
        and(eq(configVars.scope, "environment"), sql`${configVars.scopeId} in ${envIds}`),
        level === "project" ? and(eq(configVars.scope, "project"), eq(configVars.scopeId, id)) : undefined,
      ),
    )
    .run();
}
