// Queries for organizations and memberships.
import { and, count, eq, inArray, or, sql } from "drizzle-orm";
import { countRows, preparedPerDb, type Db } from "../../db/client";
import { organizations, orgMembers, projects, services, teamMembers, teams, users } from "../../db/schema";

export type OrgRow = typeof organizations.$inferSelect;

// spelled out: in a one-table select drizzle renders ${organizations.id} as a bare "id", which the subquery would bind to its own table
const memberCount = sql<number>`(select count(*) from org_members m where m.org_id = "organizations"."id")`;
const projectCount = sql<number>`(select count(*) from projects p where p.org_id = "organizations"."id")`;

const summaryColumns = {
  id: organizations.id,
  name: organizations.name,
  slug: organizations.slug,
  member_count: memberCount,
  project_count: projectCount,
};

const forUserQ = preparedPerDb((db) =>
  db
    .select(summaryColumns)
    .from(orgMembers)
    .innerJoin(organizations, eq(organizations.id, orgMembers.orgId))
    .where(eq(orgMembers.userId, sql.placeholder("userId")))
    .orderBy(organizations.slug)
    .prepare(),
);
export const listOrgSummariesForUser = (db: Db, userId: string) => forUserQ(db).all({ userId });

const allQ = preparedPerDb((db) => db.select(summaryColumns).from(organizations).orderBy(organizations.slug).prepare());
export const listAllOrgSummaries = (db: Db) => allQ(db).all();

const findOrgQ = preparedPerDb((db) => db.select().from(organizations).where(or(eq(organizations.slug, sql.placeholder("r")), eq(organizations.id, sql.placeholder("r")))).prepare());
export const findOrg = (db: Db, slugOrId: string) => findOrgQ(db).get({ r: slugOrId });

export const findOrgBySlug = (db: Db, slug: string) => db.select().from(organizations).where(eq(organizations.slug, slug)).get();

const memQ = preparedPerDb((db) => db.select().from(orgMembers).where(and(eq(orgMembers.orgId, sql.placeholder("o")), eq(orgMembers.userId, sql.placeholder("u")))).prepare());
export const findMembership = (db: Db, orgId: string, userId: string) => memQ(db).get({ o: orgId, u: userId });

// an organization's detail (GET /organizations/{org}, and after every change): prepared once
const membersQ = preparedPerDb((db) =>
  db
    .select({ user_id: users.id, username: users.username, email: users.email, admin: orgMembers.admin })
    .from(orgMembers)
    .innerJoin(users, eq(users.id, orgMembers.userId))
    .where(eq(orgMembers.orgId, sql.placeholder("o")))
    .orderBy(users.username)
    .prepare(),
);
export const listMembers = (db: Db, orgId: string) => membersQ(db).all({ o: orgId });

export const countAdmins = (db: Db, orgId: string) => countRows(db, orgMembers, and(eq(orgMembers.orgId, orgId), eq(orgMembers.admin, true)));
const projectCountQ = preparedPerDb((db) => db.select({ n: count() }).from(projects).where(eq(projects.orgId, sql.placeholder("o"))).prepare());
export const countProjects = (db: Db, orgId: string) => projectCountQ(db).get({ o: orgId })?.n ?? 0;
const serviceCountQ = preparedPerDb((db) =>
  db.select({ n: count() }).from(services).innerJoin(projects, eq(projects.id, services.projectId)).where(eq(projects.orgId, sql.placeholder("o"))).prepare(),
);
export const countServices = (db: Db, orgId: string) => serviceCountQ(db).get({ o: orgId })?.n ?? 0;

export const insertOrg = (db: Db, row: typeof organizations.$inferInsert) => db.insert(organizations).values(row).returning().get();
export const updateOrg = (db: Db, id: string, patch: Partial<typeof organizations.$inferInsert>) =>
  db.update(organizations).set(patch).where(eq(organizations.id, id)).returning().get()!;
export const deleteOrg = (db: Db, id: string) => db.delete(organizations).where(eq(organizations.id, id)).run();

export const insertMember = (db: Db, row: typeof orgMembers.$inferInsert) => db.insert(orgMembers).values(row).run();
export const setMemberAdmin = (db: Db, orgId: string, userId: string, admin: boolean) =>
  db.update(orgMembers).set({ admin }).where(and(eq(orgMembers.orgId, orgId), eq(orgMembers.userId, userId))).run();
/** Leaving an organization is leaving its teams too (call inside the caller's transaction). */
export const deleteMember = (db: Db, orgId: string, userId: string) => {
  db.delete(teamMembers).where(and(eq(teamMembers.userId, userId), inArray(teamMembers.teamId, db.select({ id: teams.id }).from(teams).where(eq(teams.orgId, orgId))))).run();
  return db.delete(orgMembers).where(and(eq(orgMembers.orgId, orgId), eq(orgMembers.userId, userId))).run();
};
