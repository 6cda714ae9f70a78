// Who may see a project: the organization rules first (non-member → 404, so nothing about other
// organizations leaks), then the project by slug or id.
import { NotFound } from "../../errors";
import type { Deps } from "../../deps";
import { requireUser, type Actor } from "../auth/service";
import { orgAccess, type OrgAccess } from "../orgs/access";
import { findProject, findProjectById, type ProjectRow } from "./repo";

export type ProjectAccess = OrgAccess & { project: ProjectRow };

export function projectAccess(deps: Deps, actor: Actor | null, org: string, project: string): ProjectAccess {
  const access = orgAccess(deps, actor, org);
  const row = findProject(deps.db, access.org.id, project);
  if (!row) throw new NotFound("Project");
  return { ...access, project: row };
}

/** A project by its id (CreateApplicationRequest.project_id); 404 unless the caller may see it. */
export function projectAccessById(deps: Deps, actor: Actor | null, projectId: string): ProjectAccess {
  const project = findProjectById(deps.db, projectId);
  if (!project) {
    requireUser(actor);
    throw new NotFound("Project");
  }
  try {
    return { ...orgAccess(deps, actor, project.orgId), project };
  } catch (e) {
    throw e instanceof NotFound ? new NotFound("Project") : e;
  }
}
