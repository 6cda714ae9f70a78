// Organization access rules shared by every module below an organization:
// non-members get 404 (existence is not leaked), members without admin get 403 for admin actions.
import { Forbidden, NotFound } from "../../errors";
import type { Deps } from "../../deps";
import { requireUser, type Actor } from "../auth/service";
import { findMembership, findOrg, type OrgRow } from "./repo";

export type OrgAccess = { actor: Actor; org: OrgRow; isAdmin: boolean };

export function orgAccess(deps: Deps, actor: Actor | null, orgSlugOrId: string): OrgAccess {
  const a = requireUser(actor);
  const org = findOrg(deps.db, orgSlugOrId);
  if (!org) throw new NotFound("Organization");
  if (a.user.isAdmin) return { actor: a, org, isAdmin: true };
  const membership = findMembership(deps.db, org.id, a.user.id);
  if (!membership) throw new NotFound("Organization");
  return { actor: a, org, isAdmin: membership.admin };
}

export function orgAdminAccess(deps: Deps, actor: Actor | null, orgSlugOrId: string): OrgAccess {
  const access = orgAccess(deps, actor, orgSlugOrId);
  if (!access.isAdmin) throw new Forbidden("Organization administrators only.");
  return access;
}

