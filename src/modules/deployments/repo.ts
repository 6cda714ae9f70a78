// Deployment and deployment log queries.
import { and, asc, count, desc, eq, gt, inArray, sql } from "drizzle-orm";
import { preparedPerDb, type Db } from "../../db/client";
import { deploymentLogs, deployments, environments, organizations, projects, releases, services } from "../../db/schema";
import { wake } from "../../lib/wake";

export type DeploymentRow = typeof deployments.$inferSelect;

export const findDeployment = (db: Db, id: string) => db.select().from(deployments).where(eq(deployments.id, id)).get();

export function updateDeployment(db: Db, id: string, patch: Partial<typeof deployments.$inferInsert>) {
  const result = db.update(deployments).set(patch).where(eq(deployments.id, id)).run();
  if (patch.status) wake(deploymentLogKey(id)); // a follower ends its stream when the deploy does
  return result;
}

export const nextDeploymentVersion = (db: Db, serviceId: string): number =>
  (db.select({ v: deployments.version }).from(deployments).where(eq(deployments.serviceId, serviceId)).orderBy(desc(deployments.version)).limit(1).get()?.v ?? 0) + 1;

/** The deployment whose replicas serve now: the latest complete one. */
export const currentDeployment = (db: Db, serviceId: string) =>
  db
    .select()
    .from(deployments)
    .where(and(eq(deployments.serviceId, serviceId), eq(deployments.status, "complete")))
    .orderBy(desc(deployments.version))
    .limit(1)
    .get();

/** Every deployment of a service, oldest first. */
export const deploymentsInOrder = (db: Db, serviceId: string) => db.select().from(deployments).where(eq(deployments.serviceId, serviceId)).orderBy(deployments.version).all();

export const latestDeployment = (db: Db, serviceId: string) =>
  db.select().from(deployments).where(eq(deployments.serviceId, serviceId)).orderBy(desc(deployments.version)).limit(1).get();

export const listForService = (db: Db, serviceId: string, limit: number, offset = 0) =>
  db.select().from(deployments).where(eq(deployments.serviceId, serviceId)).orderBy(desc(deployments.createdAt), desc(deployments.version)).limit(limit).offset(offset).all();

export const countForService = (db: Db, serviceId: string): number =>
  db.select({ n: count() }).from(deployments).where(eq(deployments.serviceId, serviceId)).get()?.n ?? 0;

/** Latest deployments of every service in an environment. */
export const listForEnv = (db: Db, envId: string, limit: number) =>
  db
    .select({ d: deployments })
    .from(deployments)
    .innerJoin(services, eq(services.id, deployments.serviceId))
    .where(eq(services.envId, envId))
    .orderBy(desc(deployments.createdAt))
    .limit(limit)
    .all()
    .map((r) => r.d);

/** listForEnv with each deployment's release summary columns and its service's platform, prepared once. */
const forEnvWithReleaseQ = preparedPerDb((db) =>
  db
    .select({
      d: deployments,
      platform: services.platform,
      r: { id: releases.id, version: releases.version, serviceId: releases.serviceId, status: releases.status, createdAt: releases.createdAt, updatedAt: releases.updatedAt },
    })
    .from(deployments)
    .innerJoin(services, eq(services.id, deployments.serviceId))
    .leftJoin(releases, eq(releases.id, deployments.releaseId))
    .where(eq(services.envId, sql.placeholder("e")))
    .orderBy(desc(deployments.createdAt))
    .limit(sql.placeholder("n"))
    .prepare(),
);
export const listForEnvWithRelease = (db: Db, envId: string, limit: number) => forEnvWithReleaseQ(db).all({ e: envId, n: limit });

export const unfinished = (db: Db, serviceIds?: string[]) =>
  db
    .select()
    .from(deployments)
    .where(and(inArray(deployments.status, ["queued", "running"]), serviceIds ? inArray(deployments.serviceId, serviceIds) : undefined))
    .all();

export const deploymentLogKey = (deploymentId: string) => `deployment-log:${deploymentId}`;

/** Appends a deploy log line and wakes the live streams following this deployment's log. */
export function appendLog(db: Db, deploymentId: string, line: string, createdAt: string): void {
  db.insert(deploymentLogs).values({ deploymentId, line, createdAt }).run();
  wake(deploymentLogKey(deploymentId));
}

/** Lines after the line id `after`, with their ids (live streams resume from there). */
export const readLog = (db: Db, deploymentId: string, after = 0) =>
  db
    .select({ id: deploymentLogs.id, line: deploymentLogs.line })
    .from(deploymentLogs)
    .where(and(eq(deploymentLogs.deploymentId, deploymentId), gt(deploymentLogs.id, after)))
    .orderBy(asc(deploymentLogs.id))
    .all();

export const logLines = (db: Db, deploymentId: string): string[] =>
  db.select({ line: deploymentLogs.line }).from(deploymentLogs).where(eq(deploymentLogs.deploymentId, deploymentId)).orderBy(asc(deploymentLogs.id)).all().map((r) => r.line);

/** Every service with the slugs that make up its hostnames. */
export const routableServices = (db: Db) =>
  db
    .select({
      id: services.id,
      service: services.slug,
      domains: services.domains,
      upstreamTimeout: services.upstreamTimeout,
      env: environments.slug,
      envId: environments.id,
      isDefaultEnv: environments.isDefault,
      target: environments.target,
      project: projects.slug,
      org: organizations.slug,
    })
    .from(services)
    .innerJoin(environments, eq(environments.id, services.envId))
    .innerJoin(projects, eq(projects.id, services.projectId))
    .innerJoin(organizations, eq(organizations.id, projects.orgId))
    .all();

export const insertDeployment = (db: Db, row: typeof deployments.$inferInsert) => db.insert(deployments).values(row).returning().get();

/** Status of each service's latest deployment, in one query (list views). */
// the list views pass every service of an environment: one prepared statement taking the ids as a
// JSON array, instead of drizzle building `in (?, ?, …)` anew per call (~110 µs for 100 ids)
const latestStatusesQ = preparedPerDb((db) =>
  db
    .select({ serviceId: deployments.serviceId, status: deployments.status })
    .from(deployments)
    .where(
      and(
        sql`${deployments.serviceId} in (select value from json_each(${sql.placeholder("ids")}))`,
        sql`${deployments.version} = (select max(d2.version) from deployments d2 where d2.service_id = ${deployments.serviceId})`,
      ),
    )
    .prepare(),
);
export const latestStatusesOf = (db: Db, serviceIds: string[]) =>
  serviceIds.length === 0 ? [] : latestStatusesQ(db).all({ ids: JSON.stringify(serviceIds) });

/** Whether a release ever completed a deployment (then its release phase already ran). */
export const releaseWasDeployed = (db: Db, serviceId: string, releaseId: string): boolean =>
  db
    .select({ id: deployments.id })
    .from(deployments)
    .where(and(eq(deployments.serviceId, serviceId), eq(deployments.releaseId, releaseId), eq(deployments.status, "complete"), eq(deployments.kind, "deploy")))
    .limit(1)
    .get() !== undefined;
