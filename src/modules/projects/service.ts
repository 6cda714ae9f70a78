// Projects: created with their default `production` environment in one transaction; optional
// team of the same organization; deleting one (org admins) takes its environments and services.
import { Conflict, invalidField } from "../../errors";
import { isoNow, type Deps } from "../../deps";
import { newId } from "../../lib/ids";
import { requireUser, type Actor } from "../auth/service";
import { orgAccess, orgAdminAccess } from "../orgs/access";
import type { OrgRow } from "../orgs/repo";
import { slugOrDerived } from "../orgs/service";
import { findTeam } from "../teams/repo";
import { projectAccess } from "./access";
import { projectHooks } from "./hooks";
import type { CreateProjectInput, PatchProjectInput, ProjectDetail, ProjectSummary } from "./model";
import * as repo from "./repo";
import type { ProjectRow } from "./repo";

function detail(deps: Deps, org: OrgRow, project: ProjectRow): ProjectDetail {
  const summary = repo.findSummary(deps.db, project.id)!;
  return {
    ...summary,
    organization_name: org.name,
    description: project.description,
    previews_enabled: project.previewsEnabled,
    environments: repo.listEnvBriefs(deps.db, project.id),
    updated: project.updatedAt,
  };
}

/** The caller's projects (server admins: all), optionally of one organization. */
export function listProjects(deps: Deps, actor: Actor | null, orgRef?: string): ProjectSummary[] {
  if (orgRef !== undefined) return repo.listSummaries(deps.db, { orgId: orgAccess(deps, actor, orgRef).org.id });
  const a = requireUser(actor);
  return repo.listSummaries(deps.db, { memberId: a.user.isAdmin ? undefined : a.user.id });
}

function teamIdOf(deps: Deps, orgId: string, ref: string | null | undefined): string | null | undefined {
  if (ref === undefined || ref === null) return ref;
  const team = findTeam(deps.db, orgId, ref);
  if (!team) throw invalidField("team", "is not a team of this organization");
  return team.id;
}

export function createProject(deps: Deps, actor: Actor | null, orgRef: string, input: CreateProjectInput): ProjectDetail {
  const { org } = orgAccess(deps, actor, orgRef);
  const slug = slugOrDerived(input.slug, input.name);
  const teamId = teamIdOf(deps, org.id, input.team) ?? null;
  if (repo.findProjectBySlug(deps.db, org.id, slug)) throw new Conflict(`A project with slug '${slug}' already exists in this organization.`);
  const now = isoNow(deps);
  const project = deps.db.transaction((tx) => {
    const row = repo.insertProject(tx as never, {
      id: newId(),
      orgId: org.id,
      teamId,
      name: input.name,
      slug,
      description: input.description ?? "",
      createdAt: now,
      updatedAt: now,
    });
    projectHooks.get().created(tx as never, row, now); // its default environment
    return row;
  });
  return detail(deps, org, project);
}

export function getProject(deps: Deps, actor: Actor | null, org: string, project: string): ProjectDetail {
  const access = projectAccess(deps, actor, org, project);
  return detail(deps, access.org, access.project);
}

export function patchProject(deps: Deps, actor: Actor | null, org: string, project: string, input: PatchProjectInput): ProjectDetail {
  const access = projectAccess(deps, actor, org, project);
  const teamId = teamIdOf(deps, access.org.id, input.team);
  if (input.slug && input.slug !== access.project.slug && repo.findProjectBySlug(deps.db, access.org.id, input.slug)) {
    throw new Conflict(`A project with slug '${input.slug}' already exists in this organization.`);
  }
  const patch: Parameters<typeof repo.updateProject>[2] = { updatedAt: isoNow(deps) };
  if (input.name !== undefined) patch.name = input.name;
  if (input.slug !== undefined) patch.slug = input.slug;
  if (teamId !== undefined) patch.teamId = teamId;
  if (input.description !== undefined) patch.description = input.description;
  if (input.previews_enabled !== undefined) patch.previewsEnabled = input.previews_enabled;
  return detail(deps, access.org, repo.updateProject(deps.db, access.project.id, patch));
}

/** Org admins only; environments and services follow by ON DELETE CASCADE, config through the hook, what runs in the background. */
export function deleteProject(deps: Deps, actor: Actor | null, org: string, project: string) {
  const access = projectAccess(deps, actor, org, project);
  orgAdminAccess(deps, actor, access.org.id);
  const removeRunning = projectHooks.get().leaving(deps, access.project.id); // before the cascade removes its services
  deps.db.transaction((tx) => {
    projectHooks.get().deleting(tx as never, access.project.id);
    repo.deleteProject(tx as never, access.project.id);
  });
  removeRunning(); // its containers, routes and network, in the background
  return { ok: true };
}
