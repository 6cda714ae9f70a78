// Environments of a project: the default one (created with the project) cannot be deleted;
// protection is an admin decision; deleting an environment deletes its services.
import { Conflict, Forbidden, Unprocessable } from "../../errors";
import { isoNow, type Deps } from "../../deps";
import type { Db } from "../../db/client";
import { newId } from "../../lib/ids";
import type { Actor } from "../auth/service";
import { slugOrDerived } from "../orgs/service";
import { envAccess, type EnvAccess } from "./access";
import { projectAccess, type ProjectAccess } from "../projects/access";
import { envTypes, isKubeconfigPath, type CreateEnvInput, type EnvResponse, type PatchEnvInput } from "./model";
import * as repo from "./repo";
import { envHooks } from "./hooks";

type Where = { org: { slug: string }; project: { slug: string } };

export function toEnvResponse(row: repo.EnvRow, at: Where, serviceCount: number): EnvResponse {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    project_id: row.projectId,
    project_slug: at.project.slug,
    organization_slug: at.org.slug,
    env_type: row.envType,
    is_default: row.isDefault,
    protected: row.protected,
    auto_deploy_branch: row.autoDeployBranch,
    ephemeral: row.ephemeral,
    target: row.target,
    kubeconfig_set: row.kubeconfig !== null,
    kubeconfig_path: row.kubeconfig !== null && isKubeconfigPath(row.kubeconfig) ? row.kubeconfig : null,
    namespace: row.namespace,
    service_count: serviceCount,
    created: row.createdAt,
    updated: row.updatedAt,
  };
}

/** A new project's default environment, inside the project's creating transaction (projects/hooks.ts). */
export function createDefaultEnv(db: Db, projectId: string, now: string): repo.EnvRow {
  return repo.insertEnv(db, { id: newId(), projectId, name: "production", slug: "production", envType: "production", isDefault: true, createdAt: now, updatedAt: now });
}

function assertMayProtect(access: ProjectAccess, wanted: boolean | undefined, current: boolean) {
  if (wanted !== undefined && wanted !== current && !access.isAdmin) throw new Forbidden("Only organization admins may change 'protected'.");
}

function assertKubeconfig(target: string, kubeconfig: string | null) {
  if (target === "kubernetes" && !kubeconfig) {
    throw new Unprocessable("kubeconfig: is required when target is kubernetes", [{ path: "kubeconfig", message: "is required when target is kubernetes" }]);
  }
}

function assertSlugFree(deps: Deps, projectId: string, slug: string, exceptId?: string) {
  const clash = repo.findEnvBySlug(deps.db, projectId, slug);
  if (clash && clash.id !== exceptId) throw new Conflict(`An environment with slug '${slug}' already exists in this project.`);
}

export function listEnvs(deps: Deps, actor: Actor | null, org: string, project: string): EnvResponse[] {
  const access = projectAccess(deps, actor, org, project);
  return repo.listEnvs(deps.db, access.project.id).map((r) => toEnvResponse(r.env, access, r.serviceCount));
}

export function createEnv(deps: Deps, actor: Actor | null, org: string, project: string, input: CreateEnvInput): EnvResponse {
  const access = projectAccess(deps, actor, org, project);
  const slug = slugOrDerived(input.slug, input.name);
  assertMayProtect(access, input.protected, false);
  assertKubeconfig(input.target ?? "docker", input.kubeconfig ?? null);
  assertSlugFree(deps, access.project.id, slug);
  const now = isoNow(deps);
  const row = repo.insertEnv(deps.db, {
    id: newId(),
    projectId: access.project.id,
    name: input.name,
    slug,
    // "staging", "preview", … name their own type; anything else is a development environment
    envType: input.env_type ?? ((envTypes as readonly string[]).includes(slug) ? (slug as repo.EnvRow["envType"]) : "development"),
    isDefault: false,
    protected: input.protected ?? false,
    autoDeployBranch: input.auto_deploy_branch ?? null,
    ephemeral: input.ephemeral ?? false,
    target: input.target ?? "docker",
    kubeconfig: input.kubeconfig ?? null,
    namespace: input.namespace ?? null,
    createdAt: now,
    updatedAt: now,
  });
  return toEnvResponse(row, access, 0);
}

export function getEnv(deps: Deps, actor: Actor | null, org: string, project: string, env: string): EnvResponse {
  const access = envAccess(deps, actor, org, project, env);
  return toEnvResponse(access.env, access, repo.countServicesIn(deps.db, access.env.id));
}

export function patchEnv(deps: Deps, actor: Actor | null, org: string, project: string, env: string, input: PatchEnvInput): EnvResponse {
  const access = envAccess(deps, actor, org, project, env);
  const current = access.env;
  assertMayProtect(access, input.protected, current.protected);
  assertKubeconfig(input.target ?? current.target, input.kubeconfig === undefined ? current.kubeconfig : input.kubeconfig);
  if (input.slug) assertSlugFree(deps, access.project.id, input.slug, current.id);
  const patch: Partial<repo.EnvInsert> = { updatedAt: isoNow(deps) };
  if (input.name !== undefined) patch.name = input.name;
  if (input.slug !== undefined) patch.slug = input.slug;
  if (input.env_type !== undefined) patch.envType = input.env_type;
  if (input.protected !== undefined) patch.protected = input.protected;
  if (input.auto_deploy_branch !== undefined) patch.autoDeployBranch = input.auto_deploy_branch;
  if (input.ephemeral !== undefined) patch.ephemeral = input.ephemeral;
  if (input.target !== undefined) patch.target = input.target;
  if (input.kubeconfig !== undefined) patch.kubeconfig = input.kubeconfig;
  if (input.namespace !== undefined) patch.namespace = input.namespace;
  const row = repo.updateEnv(deps.db, current.id, patch);
  return toEnvResponse(row, access, repo.countServicesIn(deps.db, row.id));
}

/** Deletes the environment, its services and their config; what runs for those services goes in the background. */
export function deleteEnv(deps: Deps, actor: Actor | null, org: string, project: string, env: string) {
  const access: EnvAccess = envAccess(deps, actor, org, project, env);
  if (access.env.isDefault) throw new Conflict("The default environment cannot be deleted.");
  if (access.env.protected && !access.isAdmin) throw new Forbidden("Only organization admins may delete a protected environment.");
  const serviceIds = repo.serviceIdsIn(deps.db, access.env.id); // before the cascade removes them
  deps.db.transaction((tx) => {
    envHooks.get().deleting(tx as never, access.env.id);
    repo.deleteEnv(tx as never, access.env.id); // services go with it (ON DELETE CASCADE)
  });
  envHooks.get().servicesRemoved(deps, access.env, serviceIds); // their containers and routes
  return { ok: true };
}
