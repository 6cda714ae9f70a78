// Queries for services.
import { and, eq, or, sql } from "drizzle-orm";
import { preparedPerDb, type Db } from "../../db/client";
import { services } from "../../db/schema";

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
