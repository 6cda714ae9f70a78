// Lookups by slug or id for the project → environment → service chain (queries only). The ones
// every request below an organization runs are prepared once per database (see preparedPerDb).
import { and, eq, or, sql } from "drizzle-orm";
import { preparedPerDb, type Db } from "../../db/client";
import { environments, projects, services } from "../../db/schema";

export type ProjectRow = typeof projects.$inferSelect;
export type EnvRow = typeof environments.$inferSelect;
export type ServiceRow = typeof services.$inferSelect;

const fpQ = preparedPerDb((db) => db.select().from(projects).where(and(eq(projects.orgId, sql.placeholder("o")), or(eq(projects.slug, sql.placeholder("r")), eq(projects.id, sql.placeholder("r"))))).prepare());
export const findProject = (db: Db, orgId: string, slugOrId: string) => fpQ(db).get({ o: orgId, r: slugOrId });

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

const fsQ = preparedPerDb((db) =>
  db.select().from(services).where(and(eq(services.envId, sql.placeholder("e")), or(eq(services.slug, sql.placeholder("r")), eq(services.id, sql.placeholder("r"))))).prepare(),
);
export const findService = (db: Db, envId: string, slugOrId: string) => fsQ(db).get({ e: envId, r: slugOrId });

export const findServiceById = (db: Db, id: string) => db.select().from(services).where(eq(services.id, id)).get();
export const findEnvById = (db: Db, id: string) => db.select().from(environments).where(eq(environments.id, id)).get();
export const findProjectById = (db: Db, id: string) => db.select().from(projects).where(eq(projects.id, id)).get();
