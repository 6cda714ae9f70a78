// Teams inside an organization: members list them, org admins create them.
import { Conflict } from "../../errors";
import { isoNow, type Deps } from "../../deps";
import { newId } from "../../lib/ids";
import type { Actor } from "../auth/service";
import { orgAccess, orgAdminAccess } from "../orgs/access";
import type { OrgRow } from "../orgs/repo";
import { slugOrDerived } from "../orgs/service";
import type { TeamResponse } from "./model";
import * as repo from "./repo";

const toTeam = (t: repo.TeamRow, org: OrgRow, projectCount: number): TeamResponse => ({
  id: t.id,
  name: t.name,
  slug: t.slug,
  organization_id: org.id,
  organization_slug: org.slug,
  project_count: projectCount,
  created: t.createdAt,
});

export function listTeams(deps: Deps, actor: Actor | null, orgRef: string): TeamResponse[] {
  const { org } = orgAccess(deps, actor, orgRef);
  return repo.listTeams(deps.db, org.id).map((r) => toTeam(r.team, org, r.projectCount));
}

export function createTeam(deps: Deps, actor: Actor | null, orgRef: string, input: { name: string; slug?: string }): TeamResponse {
  const { org } = orgAdminAccess(deps, actor, orgRef);
  const slug = slugOrDerived(input.slug, input.name);
  if (repo.findTeam(deps.db, org.id, slug)) throw new Conflict(`A team with slug '${slug}' already exists in this organization.`);
  const now = isoNow(deps);
  const row = repo.insertTeam(deps.db, { id: newId(), orgId: org.id, name: input.name, slug, createdAt: now, updatedAt: now });
  return toTeam(row, org, 0);
}
