// Access to resources below an organization. Every lookup first passes the organization rules
// (non-member → 404, so nothing about other organizations leaks), then resolves the chain.
import { Forbidden, NotFound } from "../../errors";
import type { Deps } from "../../deps";
import { isUuid } from "../../lib/ids";
import { requireUser, type Actor } from "../auth/service";
import { orgAccess, type OrgAccess } from "../orgs/access";
import * as q from "./lookup";

export type ProjectAccess = OrgAccess & { project: q.ProjectRow };
export type EnvAccess = ProjectAccess & { env: q.EnvRow };
export type ServiceAccess = EnvAccess & { service: q.ServiceRow };

export function projectAccess(deps: Deps, actor: Actor | null, org: string, project: string): ProjectAccess {
  const access = orgAccess(deps, actor, org);
  const row = q.findProject(deps.db, access.org.id, project);
  if (!row) throw new NotFound("Project");
  return { ...access, project: row };
}

export function envAccess(deps: Deps, actor: Actor | null, org: string, project: string, env: string): EnvAccess {
  const access = projectAccess(deps, actor, org, project);
  const row = q.findEnv(deps.db, access.project.id, env);
  if (!row) throw new NotFound("Environment");
  return { ...access, env: row };
}

export function serviceAccess(deps: Deps, actor: Actor | null, org: string, project: string, env: string, svc: string): ServiceAccess {
  const access = envAccess(deps, actor, org, project, env);
  const row = q.findService(deps.db, access.env.id, svc);
  if (!row) throw new NotFound("Service");
  return { ...access, service: row };
}

/** A service by its id, wherever it lives; 404 unless the caller may see its organization. */
export function serviceAccessById(deps: Deps, actor: Actor | null, serviceId: string): ServiceAccess {
  const service = q.findServiceById(deps.db, serviceId);
  const env = service && q.findEnvById(deps.db, service.envId);
  const project = env && q.findProjectById(deps.db, env.projectId);
  if (!service || !env || !project) {
    requireUser(actor); // anonymous callers get 401 before any 404
    throw new NotFound("Application");
  }
  let access: OrgAccess;
  try {
    access = orgAccess(deps, actor, project.orgId);
  } catch (e) {
    if (e instanceof NotFound) throw new NotFound("Application");
    throw e;
  }
  return { ...access, project, env, service };
}

/**
 * `{application_id}` of the reference family: a service id (any environment) or the path form
 * `org/project/app` (the app in the project's default environment).
 */
export function applicationAccess(deps: Deps, actor: Actor | null, ref: string): ServiceAccess {
  if (isUuid(ref)) return serviceAccessById(deps, actor, ref);
  const parts = ref.split("/");
  if (parts.length !== 3 || parts.some((p) => !p)) {
    requireUser(actor);
    throw new NotFound("Application");
  }
  const [org, project, app] = parts as [string, string, string];
  const access = projectAccess(deps, actor, org, project);
  const env = q.findDefaultEnv(deps.db, access.project.id);
  const service = env && q.findService(deps.db, env.id, app);
  if (!env || !service) throw new NotFound("Application");
  return { ...access, env, service };
}

/** A project by its id (CreateApplicationRequest.project_id); 404 unless the caller may see it. */
export function projectAccessById(deps: Deps, actor: Actor | null, projectId: string): ProjectAccess {
  const project = q.findProjectById(deps.db, projectId);
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

/** The project's default environment (where reference-family Applications live). */
export function defaultEnvAccess(deps: Deps, actor: Actor | null, org: string, project: string): EnvAccess {
  const access = projectAccess(deps, actor, org, project);
  const env = q.findDefaultEnv(deps.db, access.project.id);
  if (!env) throw new NotFound("Environment");
  return { ...access, env };
}

/**
 * Route naming for `{application_id}` routes. Elysia's router refuses two different parameter
 * names at the same position of a path, and several modules mount routes below one prefix
 * (/applications/, /configurations/, …). So every module names the segments after the prefix
 * `:org/:project/:app`: the id form is `/:org/<suffix>` (`:org` holds the service id) and the
 * path form `/:org/:project/:app/<suffix>`. A fixed suffix also shadows a project slug at that
 * position (`POST /applications/acme/scale`): handlers of `/:org/<suffix>` see a non-UUID `:org`
 * in that case and must answer for the `/:org/:project` route instead.
 */
export function applicationRef(params: { org: string; project?: string; app?: string }): string {
  return params.project !== undefined && params.app !== undefined ? `${params.org}/${params.project}/${params.app}` : params.org;
}

/** Deploys, rollbacks, scaling and promotions into a protected environment need an org admin. */
export function assertMayDeploy(access: EnvAccess): void {
  if (access.env.protected && !access.isAdmin) {
    throw new Forbidden(`Environment '${access.env.slug}' is protected; only organization admins may deploy to it.`);
  }
}
