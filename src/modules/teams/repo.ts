// Queries for teams.
import { and, eq, or, sql } from "drizzle-orm";
import type { Db } from "../../db/client";
import { teams } from "../../db/schema";

export type TeamRow = typeof teams.$inferSelect;

// the outer column is spelled out: drizzle renders ${table.column} unqualified in a one-table select
const projectCount = sql<number>`(select count(*) from projects p where p.team_id = "teams"."id")`;

export const listTeams = (db: Db, orgId: string) =>
  db.select({ team: teams, projectCount }).from(teams).where(eq(teams.orgId, orgId)).orderBy(teams.slug).all();

/** A team of this organization by slug or id. */
export const findTeam = (db: Db, orgId: string, slugOrId: string) =>
  db.select().from(teams).where(and(eq(teams.orgId, orgId), or(eq(teams.slug, slugOrId), eq(teams.id, slugOrId)))).get();

export const findTeamById = (db: Db, id: string) => db.select().from(teams).where(eq(teams.id, id)).get();

export const insertTeam = (db: Db, row: typeof teams.$inferInsert) => db.insert(teams).values(row).returning().get();
