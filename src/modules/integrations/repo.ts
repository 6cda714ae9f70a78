// Queries of the integrations tables (deliveries, project settings, git credentials, signing key);
// reads join services/environments to find which services use a repository.
import { and, desc, eq, inArray, isNotNull, ne, notInArray, or } from "drizzle-orm";
import type { Db } from "../../db/client";
import { environments, previewEnvironments, projectIntegrations, projects, registrySigningKeys, serviceGitCredentials, services, webhookDeliveries } from "../../db/schema";

export type DeliveryRow = typeof webhookDeliveries.$inferSelect;
export type DeliveryInsert = typeof webhookDeliveries.$inferInsert;
export type ProjectIntegrationRow = typeof projectIntegrations.$inferSelect;
export type GitCredentialsRow = typeof serviceGitCredentials.$inferSelect;
export type PreviewRow = typeof previewEnvironments.$inferSelect;

/** Deliveries kept per project; refused (unverified) ones have their own small budget, so junk cannot push real ones out. */
export const DELIVERIES_KEPT = 200;
export const REFUSED_KEPT = 20;

/** Every service with a git source, with its environment and project (for repository matching). */
export const servicesWithGitSource = (db: Db) =>
  db
    .select({ service: services, env: environments, orgId: projects.orgId })
    .from(services)
    .innerJoin(environments, eq(environments.id, services.envId))
    .innerJoin(projects, eq(projects.id, services.projectId))
    .where(or(isNotNull(services.gitUrl), isNotNull(services.githubRepository)))
    .all();

export function insertDelivery(db: Db, row: DeliveryInsert): DeliveryRow {
  const inserted = db.insert(webhookDeliveries).values(row).returning().get();
  if (row.projectId) {
    const refused = row.status === "refused";
    const group = and(eq(webhookDeliveries.projectId, row.projectId), refused ? eq(webhookDeliveries.status, "refused") : ne(webhookDeliveries.status, "refused"));
    const keep = db
      .select({ id: webhookDeliveries.id })
      .from(webhookDeliveries)
      .where(group)
      .orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id))
      .limit(refused ? REFUSED_KEPT : DELIVERIES_KEPT)
      .all()
      .map((r) => r.id);
    db.delete(webhookDeliveries).where(and(group, notInArray(webhookDeliveries.id, keep))).run();
  }
  return inserted;
}

/** A delivery id already handled (not refused) for this project: GitHub retries and replays are ignored. */
export const seenDelivery = (db: Db, projectId: string, deliveryId: string): boolean =>
  !!db
    .select({ id: webhookDeliveries.id })
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.projectId, projectId), eq(webhookDeliveries.deliveryId, deliveryId), inArray(webhookDeliveries.status, ["accepted", "ignored", "error"])))
    .get();

/** Deliveries of this project that started something for `event` at commit `sha` (webhooks.ts compares their payloads to spot a replayed body). */
export const acceptedDeliveriesAt = (db: Db, projectId: string, event: string, sha: string) =>
  db
    .select()
    .from(webhookDeliveries)
    .where(and(eq(webhookDeliveries.projectId, projectId), eq(webhookDeliveries.event, event), eq(webhookDeliveries.commitSha, sha), eq(webhookDeliveries.status, "accepted")))
    .all();

export const listDeliveries = (db: Db, projectId: string, limit: number) =>
  db.select().from(webhookDeliveries).where(eq(webhookDeliveries.projectId, projectId)).orderBy(desc(webhookDeliveries.createdAt), desc(webhookDeliveries.id)).limit(limit).all();

export const findDelivery = (db: Db, projectId: string, id: string) =>
  db.select().from(webhookDeliveries).where(and(eq(webhookDeliveries.projectId, projectId), eq(webhookDeliveries.id, id))).get();

export const findProjectIntegration = (db: Db, projectId: string) => db.select().from(projectIntegrations).where(eq(projectIntegrations.projectId, projectId)).get();

export function upsertProjectIntegration(db: Db, projectId: string, patch: Partial<Omit<ProjectIntegrationRow, "projectId">> & { updatedAt: string }) {
  db.insert(projectIntegrations)
    .values({ projectId, ...patch })
    .onConflictDoUpdate({ target: projectIntegrations.projectId, set: patch })
    .run();
}

export const projectWebhookSecrets = (db: Db, projectIds: string[]) =>
  projectIds.length
    ? db.select({ projectId: projectIntegrations.projectId, secret: projectIntegrations.webhookSecret }).from(projectIntegrations).where(and(inArray(projectIntegrations.projectId, projectIds), isNotNull(projectIntegrations.webhookSecret))).all()
    : [];

export const findGitCredentials = (db: Db, serviceId: string) => db.select().from(serviceGitCredentials).where(eq(serviceGitCredentials.serviceId, serviceId)).get();

export function upsertGitCredentials(db: Db, serviceId: string, patch: Partial<Omit<GitCredentialsRow, "serviceId" | "createdAt">> & { updatedAt: string }) {
  db.insert(serviceGitCredentials)
    .values({ serviceId, createdAt: patch.updatedAt, ...patch })
    .onConflictDoUpdate({ target: serviceGitCredentials.serviceId, set: patch })
    .run();
}

export const findSigningKey = (db: Db) => db.select().from(registrySigningKeys).orderBy(desc(registrySigningKeys.createdAt)).limit(1).get();
export const insertSigningKey = (db: Db, row: typeof registrySigningKeys.$inferInsert) => db.insert(registrySigningKeys).values(row).onConflictDoNothing().run();


export const findPreview = (db: Db, projectId: string, number: number) => db.select().from(previewEnvironments).where(and(eq(previewEnvironments.projectId, projectId), eq(previewEnvironments.number, number))).get();
export const listPreviews = (db: Db, projectId: string) => db.select().from(previewEnvironments).where(eq(previewEnvironments.projectId, projectId)).orderBy(desc(previewEnvironments.number)).all();
export const allPreviews = (db: Db) => db.select().from(previewEnvironments).all();
export const insertPreview = (db: Db, row: typeof previewEnvironments.$inferInsert) => db.insert(previewEnvironments).values(row).run();
export const updatePreview = (db: Db, envId: string, patch: Partial<typeof previewEnvironments.$inferInsert>) => db.update(previewEnvironments).set(patch).where(eq(previewEnvironments.envId, envId)).run();
