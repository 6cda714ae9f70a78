// Queries for teams.
import { and, count, eq, or, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { projects, teamMembers, teams, users } from "../../db/schema";

export type TeamRow = typeof teams.$inferSelect;

// the outer column is spelled out: drizzle renders ${table.column} unqualified in a one-table select
const projectCount = sql<number>`(select count(*) from projects p where p.team_id = "teams"."id")`;
const memberCount = sql<number>`(select count(*) from team_members m where m.team_id = "teams"."id")`;

export const listTeams = (db: Db, orgId: string) =>
  db.select({ team: teams, projectCount, memberCount }).from(teams).where(eq(teams.orgId, orgId)).orderBy(teams.slug).all();

export const countTeamProjects = (db: Db, teamId: string) => db.select({ n: count() }).from(projects).where(eq(projects.teamId, teamId)).get()?.n ?? 0;

export const listTeamMembers = (db: Db, teamId: string) =>
  db
    .select({ user_id: users.id, username: users.username, email: users.email, added: teamMembers.createdAt })
    .from(teamMembers)
    .innerJoin(users, eq(users.id, teamMembers.userId))
    .where(eq(teamMembers.teamId, teamId))
    .orderBy(users.username)
    .all();

export const findTeamMember = (db: Db, teamId: string, userId: string) =>
  db.select().from(teamMembers).where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId))).get();
export const insertTeamMember = (db: Db, row: typeof teamMembers.$inferInsert) => db.insert(teamMembers).values(row).run();
export const deleteTeamMember = (db: Db, teamId: string, userId: string) =>
  db.delete(teamMembers).where(and(eq(teamMembers.teamId, teamId), eq(teamMembers.userId, userId))).run();

/** A team of this organization by slug or id. */
export const findTeam = (db: Db, orgId: string, slugOrId: string) =>
  db.select().from(teams).where(and(eq(teams.orgId, orgId), or(eq(teams.slug, slugOrId), eq(teams.id, slugOrId)))).get();

export const findTeamById = (db: Db, id: string) => db.select().from(teams).where(eq(teams.id, id)).get();

export const insertTeam = (db: Db, row: typeof teams.$inferInsert) => db.insert(teams).values(row).returning().get();
