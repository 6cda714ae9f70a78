// Organizations: create (creator becomes admin), members (never remove or demote the last admin).
import { Conflict, NotFound, Unprocessable } from "../../errors";
import { isoNow, type Deps } from "../../deps";
import { newId } from "../../lib/ids";
import { slugify, slugSchema } from "../../lib/slugs";
import { findUserByLogin, findUserById } from "../auth/repo";
import type { Actor } from "../auth/service";
import { requireUser } from "../auth/service";
import { orgAccess, orgAdminAccess } from "./access";
import * as repo from "./repo";
import { readTx } from "../../db/client";

/** Slug from the request, or derived from the name; 422 when the name yields nothing usable. */
export function slugOrDerived(slug: string | undefined, name: string, field = "slug"): string {
  if (slug) return slug;
  const derived = slugify(name);
  const ok = slugSchema.safeParse(derived);
  if (!ok.success) throw new Unprocessable(`${field}: cannot be derived from the name; give one explicitly`, [{ path: field, message: "cannot be derived from the name" }]);
  return derived;
}

export function orgDetail(deps: Deps, org: repo.OrgRow) {
  return {
    id: org.id,
    name: org.name,
    slug: org.slug,
    members: repo.listMembers(deps.db, org.id),
    project_count: repo.countProjects(deps.db, org.id),
    application_count: repo.countServices(deps.db, org.id),
  };
}

export function listOrgs(deps: Deps, actor: Actor | null) {
  const a = requireUser(actor);
  return a.user.isAdmin ? repo.listAllOrgSummaries(deps.db) : repo.listOrgSummariesForUser(deps.db, a.user.id);
}

export function createOrg(deps: Deps, actor: Actor | null, input: { name: string; slug?: string }) {
  const a = requireUser(actor);
  const slug = slugOrDerived(input.slug, input.name);
  if (repo.findOrgBySlug(deps.db, slug)) throw new Conflict(`An organization with slug '${slug}' already exists.`);
  const now = isoNow(deps);
  const org = deps.db.transaction((tx) => {
    const row = repo.insertOrg(tx as never, { id: newId(), name: input.name, slug, createdAt: now, updatedAt: now });
    repo.insertMember(tx as never, { orgId: row.id, userId: a.user.id, admin: true, createdAt: now });
    return row;
  });
  return orgDetail(deps, org);
}

export function getOrg(deps: Deps, actor: Actor | null, slug: string) {
  return readTx(deps.sqlite, () => orgDetail(deps, orgAccess(deps, actor, slug).org));
}

export function patchOrg(deps: Deps, actor: Actor | null, slug: string, patch: { name?: string; slug?: string }) {
  const { org } = orgAdminAccess(deps, actor, slug);
  if (patch.slug && patch.slug !== org.slug && repo.findOrgBySlug(deps.db, patch.slug)) {
    throw new Conflict(`An organization with slug '${patch.slug}' already exists.`);
  }
  const updated = repo.updateOrg(deps.db, org.id, { ...patch, updatedAt: isoNow(deps) });
  return orgDetail(deps, updated);
}

export function deleteOrg(deps: Deps, actor: Actor | null, slug: string) {
  const { org } = orgAdminAccess(deps, actor, slug);
  if (repo.countProjects(deps.db, org.id) > 0) throw new Conflict("Delete the organization's projects first.");
  repo.deleteOrg(deps.db, org.id);
  return { ok: true };
}

export function addMember(deps: Deps, actor: Actor | null, slug: string, input: { username: string; admin?: boolean }) {
  const { org } = orgAdminAccess(deps, actor, slug);
  const user = findUserByLogin(deps.db, input.username);
  if (!user || !user.active) throw new NotFound("User");
  if (repo.findMembership(deps.db, org.id, user.id)) throw new Conflict(`${user.username} is already a member.`);
  repo.insertMember(deps.db, { orgId: org.id, userId: user.id, admin: input.admin ?? false, createdAt: isoNow(deps) });
  return orgDetail(deps, org);
}

function memberOf(deps: Deps, orgId: string, userId: string) {
  const m = repo.findMembership(deps.db, orgId, userId);
  if (!m || !findUserById(deps.db, userId)) throw new NotFound("Member");
  return m;
}

export function toggleAdmin(deps: Deps, actor: Actor | null, slug: string, userId: string) {
  const { org } = orgAdminAccess(deps, actor, slug);
  const m = memberOf(deps, org.id, userId);
  return deps.db.transaction((tx) => {
    if (m.admin && repo.countAdmins(tx as never, org.id) <= 1) throw new Conflict("An organization needs at least one admin.");
    repo.setMemberAdmin(tx as never, org.id, userId, !m.admin);
    return { ok: true, admin: !m.admin };
  });
}

export function removeMember(deps: Deps, actor: Actor | null, slug: string, userId: string) {
  const { org } = orgAdminAccess(deps, actor, slug);
  const m = memberOf(deps, org.id, userId);
  return deps.db.transaction((tx) => {
    if (m.admin && repo.countAdmins(tx as never, org.id) <= 1) throw new Conflict("An organization needs at least one admin.");
    repo.deleteMember(tx as never, org.id, userId);
    return { ok: true };
  });
}
