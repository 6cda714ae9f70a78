// Queries for environments.
import { and, asc, desc, eq, or, sql } from "drizzle-orm";
import { preparedPerDb, type Db } from "../../db/client";
import { environments, services } from "../../db/schema";

export type EnvRow = typeof environments.$inferSelect;
export type EnvInsert = typeof environments.$inferInsert;

// every request below a project runs these: prepared once per database (see preparedPerDb)
const feQ = preparedPerDb((db) =>
  db
    .select()
    .from(environments)
    .where(and(eq(environments.projectId, sql.placeholder("p")), or(eq(environments.slug, sql.placeholder("r")), eq(environments.id, sql.placeholder("r")))))
    .prepare(),
);
export const findEnv = (db: Db, projectId: string, slugOrId: string) => feQ(db).get({ p: projectId, r: slugOrId });

const fdeQ = preparedPerDb((db) => db.select().from(environments).where(and(eq(environments.projectId, sql.placeholder("p")), eq(environments.isDefault, true))).prepare());
export const findDefaultEnv = (db: Db, projectId: string) => fdeQ(db).get({ p: projectId });

export const findEnvById = (db: Db, id: string) => db.select().from(environments).where(eq(environments.id, id)).get();

// the outer column is spelled out: drizzle renders ${table.column} unqualified in a one-table select
const serviceCount = sql<number>`(select count(*) from services s where s.env_id = "environments"."id")`;

export const listEnvs = (db: Db, projectId: string) =>
  db
    .select({ env: environments, serviceCount })
    .from(environments)
    .where(eq(environments.projectId, projectId))
    .orderBy(desc(environments.isDefault), asc(environments.slug))
    .all();

export const countServicesIn = (db: Db, envId: string) =>
  db.select({ n: serviceCount }).from(environments).where(eq(environments.id, envId)).get()?.n ?? 0;

/** Ids of the environment's services (read before a delete cascades to them). */
export const serviceIdsIn = (db: Db, envId: string): string[] =>
  db.select({ id: services.id }).from(services).where(eq(services.envId, envId)).all().map((r) => r.id);

export const findEnvBySlug = (db: Db, projectId: string, slug: string) =>
  db.select({ id: environments.id }).from(environments).where(and(eq(environments.projectId, projectId), eq(environments.slug, slug))).get();

/** Kubernetes environments (of any organization) that deploy into `namespace` of the cluster at `server`. */
export const envsInNamespace = (db: Db, server: string, namespace: string) =>
  db
    .select({ id: environments.id })
    .from(environments)
    .where(and(eq(environments.target, "kubernetes"), eq(environments.kubeconfigServer, server), eq(environments.namespace, namespace)))
    .all();

export const insertEnv = (db: Db, row: EnvInsert) => db.insert(environments).values(row).returning().get();
export const updateEnv = (db: Db, id: string, patch: Partial<EnvInsert>) =>
  db.update(environments).set(patch).where(eq(environments.id, id)).returning().get()!;
export const deleteEnv = (db: Db, id: string) => db.delete(environments).where(eq(environments.id, id)).run();
