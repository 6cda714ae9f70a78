// Lookups by slug or id for the project → environment → service chain (queries only).
import { and, eq, or } from "drizzle-orm";
import type { Db } from "../../db/client";
import { environments, projects, services } from "../../db/schema";

export type ProjectRow = typeof projects.$inferSelect;
export type EnvRow = typeof environments.$inferSelect;
export type ServiceRow = typeof services.$inferSelect;

export const findProject = (db: Db, orgId: string, slugOrId: string) =>
  db.select().from(projects).where(and(eq(projects.orgId, orgId), or(eq(projects.slug, slugOrId), eq(projects.id, slugOrId)))).get();

export const findEnv = (db: Db, projectId: string, slugOrId: string) =>
  db
    .select()
    .from(environments)
    .where(and(eq(environments.projectId, projectId), or(eq(environments.slug, slugOrId), eq(environments.id, slugOrId))))
    .get();

export const findDefaultEnv = (db: Db, projectId: string) =>
  db.select().from(environments).where(and(eq(environments.projectId, projectId), eq(environments.isDefault, true))).get();

export const findService = (db: Db, envId: string, slugOrId: string) =>
  db.select().from(services).where(and(eq(services.envId, envId), or(eq(services.slug, slugOrId), eq(services.id, slugOrId)))).get();

export const findServiceById = (db: Db, id: string) => db.select().from(services).where(eq(services.id, id)).get();
export const findEnvById = (db: Db, id: string) => db.select().from(environments).where(eq(environments.id, id)).get();
export const findProjectById = (db: Db, id: string) => db.select().from(projects).where(eq(projects.id, id)).get();
