// Queries for services.
import { and, eq, or, sql } from "drizzle-orm";
import { preparedPerDb, type Db } from "../../db/client";
import { serviceDomains, services } from "../../db/schema";

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

// custom domains: service_domains' primary key (the hostname) makes one service its owner
export const heldDomains = (db: Db, serviceId: string): string[] =>
  db.select({ hostname: serviceDomains.hostname }).from(serviceDomains).where(eq(serviceDomains.serviceId, serviceId)).all().map((r) => r.hostname);
export const releaseDomain = (db: Db, hostname: string) => db.delete(serviceDomains).where(eq(serviceDomains.hostname, hostname)).run();
/** Throws SQLite's unique violation when another service owns the name (`ifFree`: then nothing happens). */
export function insertDomain(db: Db, row: typeof serviceDomains.$inferInsert, opts: { ifFree?: boolean } = {}): void {
  const insert = db.insert(serviceDomains).values(row);
  (opts.ifFree ? insert.onConflictDoNothing() : insert).run();
}
export const domainOwners = (db: Db): { hostname: string; serviceId: string }[] =>
  db.select({ hostname: serviceDomains.hostname, serviceId: serviceDomains.serviceId }).from(serviceDomains).all();
/** Domains a service lists that it does not own (owner null: nobody does), oldest service first. */
export const unownedListedDomains = (db: Db) =>
  db.all<{ id: string; domain: string; owner: string | null; created: string }>(sql`
    select s.id as id, d.value as domain, sd.service_id as owner, s.created_at as created
    from services s, json_each(s.domains) d left join service_domains sd on sd.hostname = d.value
    where sd.service_id is null or sd.service_id != s.id order by s.created_at, s.id`);
