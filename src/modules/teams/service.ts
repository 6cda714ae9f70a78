// Teams inside an organization: members list them and see who is on each, org admins create them
// and add or remove their members (members of the organization only).
import { Conflict, NotFound, Unprocessable } from "../../errors";
import { isoNow, type Deps } from "../../deps";
import { newId } from "../../lib/ids";
import type { Actor } from "../auth/service";
import { findUserById, findUserByLogin } from "../auth/repo";
import { orgAccess, orgAdminAccess } from "../orgs/access";
import { findMembership, type OrgRow } from "../orgs/repo";
import { slugOrDerived } from "../orgs/service";
import type { TeamDetail, TeamResponse } from "./model";
import * as repo from "./repo";

const toTeam = (t: repo.TeamRow, org: OrgRow, projectCount: number, memberCount: number): TeamResponse => ({
  id: t.id,
  name: t.name,
  slug: t.slug,
  organization_id: org.id,
  organization_slug: org.slug,
  project_count: projectCount,
  member_count: memberCount,
  created: t.createdAt,
});

export function listTeams(deps: Deps, actor: Actor | null, orgRef: string): TeamResponse[] {
  const { org } = orgAccess(deps, actor, orgRef);
  return repo.listTeams(deps.db, org.id).map((r) => toTeam(r.team, org, r.projectCount, r.memberCount));
}

export function createTeam(deps: Deps, actor: Actor | null, orgRef: string, input: { name: string; slug?: string }): TeamResponse {
  const { org } = orgAdminAccess(deps, actor, orgRef);
  const slug = slugOrDerived(input.slug, input.name);
  if (repo.findTeam(deps.db, org.id, slug)) throw new Conflict(`A team with slug '${slug}' already exists in this organization.`);
  const now = isoNow(deps);
  const row = repo.insertTeam(deps.db, { id: newId(), orgId: org.id, name: input.name, slug, createdAt: now, updatedAt: now });
  return toTeam(row, org, 0, 0);
}

function teamOf(deps: Deps, org: OrgRow, teamRef: string): repo.TeamRow {
  const team = repo.findTeam(deps.db, org.id, teamRef);
  if (!team) throw new NotFound("Team");
  return team;
}

function detailOf(deps: Deps, org: OrgRow, team: repo.TeamRow): TeamDetail {
  const members = repo.listTeamMembers(deps.db, team.id);
  return { ...toTeam(team, org, repo.countTeamProjects(deps.db, team.id), members.length), members };
}

export function getTeam(deps: Deps, actor: Actor | null, orgRef: string, teamRef: string): TeamDetail {
  const { org } = orgAccess(deps, actor, orgRef);
  return detailOf(deps, org, teamOf(deps, org, teamRef));
}

/** Add a member of the organization (by username, email or id) to one of its teams. */
export function addTeamMember(deps: Deps, actor: Actor | null, orgRef: string, teamRef: string, input: { username: string }): TeamDetail {
  const { org } = orgAdminAccess(deps, actor, orgRef);
  const team = teamOf(deps, org, teamRef);
  const user = findUserByLogin(deps.db, input.username) ?? findUserById(deps.db, input.username);
  if (!user || !user.active) throw new NotFound("User");
  if (!findMembership(deps.db, org.id, user.id)) {
    throw new Unprocessable(`${user.username} is not a member of ${org.slug}; add them to the organization first.`, [{ path: "username", message: "not a member of the organization" }]);
  }
  if (repo.findTeamMember(deps.db, team.id, user.id)) throw new Conflict(`${user.username} is already on team ${team.slug}.`);
  repo.insertTeamMember(deps.db, { teamId: team.id, userId: user.id, createdAt: isoNow(deps) });
  return detailOf(deps, org, team);
}

export function removeTeamMember(deps: Deps, actor: Actor | null, orgRef: string, teamRef: string, userRef: string): TeamDetail {
  const { org } = orgAdminAccess(deps, actor, orgRef);
  const team = teamOf(deps, org, teamRef);
  const user = findUserById(deps.db, userRef) ?? findUserByLogin(deps.db, userRef);
  if (!user || !repo.findTeamMember(deps.db, team.id, user.id)) throw new NotFound("Team member");
  repo.deleteTeamMember(deps.db, team.id, user.id);
  return detailOf(deps, org, team);
}
