// Queries for projects (summaries in one query: organization and team joined, services counted).
import { and, asc, desc, eq, or, sql, type SQL } from "drizzle-orm";
import { preparedPerDb, type Db } from "../../db/client";
import { environments, organizations, orgMembers, projects, teams } from "../../db/schema";

export type ProjectRow = typeof projects.$inferSelect;

// every request below an organization runs this one: prepared once per database (see preparedPerDb)
const fpQ = preparedPerDb((db) => db.select().from(projects).where(and(eq(projects.orgId, sql.placeholder("o")), or(eq(projects.slug, sql.placeholder("r")), eq(projects.id, sql.placeholder("r"))))).prepare());
export const findProject = (db: Db, orgId: string, slugOrId: string) => fpQ(db).get({ o: orgId, r: slugOrId });
export const findProjectById = (db: Db, id: string) => db.select().from(projects).where(eq(projects.id, id)).get();

// the outer column is spelled out: drizzle renders ${table.column} unqualified in a one-table select
const applicationCount = sql<number>`(select count(*) from services s where s.project_id = "projects"."id")`;

const summaryColumns = {
  id: projects.id,
  name: projects.name,
  slug: projects.slug,
  organization_id: projects.orgId,
  organization_slug: organizations.slug,
  team_id: projects.teamId,
  team_slug: teams.slug,
  application_count: applicationCount,
  created: projects.createdAt,
};

function summaries(db: Db, where: SQL | undefined, memberId?: string) {
  const base = db
    .select(summaryColumns)
    .from(projects)
    .innerJoin(organizations, eq(organizations.id, projects.orgId))
    .leftJoin(teams, eq(teams.id, projects.teamId));
  const scoped = memberId ? base.innerJoin(orgMembers, and(eq(orgMembers.orgId, projects.orgId), eq(orgMembers.userId, memberId))) : base;
  return scoped.where(where).orderBy(organizations.slug, projects.slug).all();
}

/** Summaries of every project, optionally of one organization, optionally only where `memberId` is a member. */
export const listSummaries = (db: Db, opts: { orgId?: string; memberId?: string }) =>
  summaries(db, opts.orgId ? eq(projects.orgId, opts.orgId) : undefined, opts.memberId);

export const findSummary = (db: Db, projectId: string) => summaries(db, eq(projects.id, projectId))[0];

export const listEnvBriefs = (db: Db, projectId: string) =>
  db
    .select({ id: environments.id, name: environments.name, slug: environments.slug, env_type: environments.envType, is_default: environments.isDefault, protected: environments.protected })
    .from(environments)
    .where(eq(environments.projectId, projectId))
    .orderBy(desc(environments.isDefault), asc(environments.slug))
    .all();

export const findProjectBySlug = (db: Db, orgId: string, slug: string) =>
  db.select({ id: projects.id }).from(projects).where(and(eq(projects.orgId, orgId), eq(projects.slug, slug))).get();

export const insertProject = (db: Db, row: typeof projects.$inferInsert) => db.insert(projects).values(row).returning().get();
export const updateProject = (db: Db, id: string, patch: Partial<typeof projects.$inferInsert>) =>
  db.update(projects).set(patch).where(eq(projects.id, id)).returning().get()!;
export const deleteProject = (db: Db, id: string) => db.delete(projects).where(eq(projects.id, id)).run();
