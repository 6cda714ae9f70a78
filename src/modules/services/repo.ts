// Queries for services.
import { and, eq, or, sql } from "drizzle-orm";
import { preparedPerDb, type Db } from "../../db/client";
import { configVars, services } from "../../db/schema";

export type ServiceRow = typeof services.$inferSelect;
export type ServiceInsert = typeof services.$inferInsert;

// every request below an environment runs this one: prepared once per database (see preparedPerDb)
const fsQ = preparedPerDb((db) =>
  db.select().from(services).where(and(eq(services.envId, sql.placeholder("e")), or(eq(services.slug, sql.placeholder("r")), eq(services.id, sql.placeholder("r"))))).prepare(),
);
export const findService = (db: Db, envId: string, slugOrId: string) => fsQ(db).get({ e: envId, r: slugOrId });
export const findServiceById = (db: Db, id: string) => db.select().from(services).where(eq(services.id, id)).get();

export const listServicesInEnv = (db: Db, envId: string) =>
  db.select().from(services).where(eq(services.envId, envId)).orderBy(services.slug).all();

/** The columns ApplicationSummary needs, in one indexed query (services_env_slug_idx), prepared once per database. */
const summaryRowsQ = preparedPerDb((db) =>
  db
    .select({
      id: services.id,
      name: services.name,
      slug: services.slug,
      project_id: services.projectId,
      platform: services.platform,
      created: services.createdAt,
      github_repository: services.githubRepository,
      process_counts: services.processCounts,
    })
    .from(services)
    .where(eq(services.envId, sql.placeholder("envId")))
    .orderBy(services.slug)
    .prepare(),
);
export const listSummaryRows = (db: Db, envId: string) => summaryRowsQ(db).all({ envId });

export const findServiceInEnvBySlug = (db: Db, envId: string, slug: string) =>
  db.select({ id: services.id }).from(services).where(and(eq(services.envId, envId), eq(services.slug, slug))).get();

export const insertService = (db: Db, row: ServiceInsert) => db.insert(services).values(row).returning().get();
export const updateService = (db: Db, id: string, patch: Partial<ServiceInsert>) =>
  db.update(services).set(patch).where(eq(services.id, id)).returning().get()!;
export const deleteService = (db: Db, id: string) => db.delete(services).where(eq(services.id, id)).run();

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
