// Who may see a service: by path (the environment's rules, then the service by slug or id) or by
// id wherever it lives (404 unless the caller may see its organization).
import { NotFound } from "../../errors";
import type { Deps } from "../../deps";
import { requireUser, type Actor } from "../auth/service";
import { orgAccess, type OrgAccess } from "../orgs/access";
import { findProjectById } from "../projects/repo";
import { envAccess, type EnvAccess } from "../envs/access";
import { findEnvById } from "../envs/repo";
import { findService, findServiceById, type ServiceRow } from "./repo";

export type ServiceAccess = EnvAccess & { service: ServiceRow };

export function serviceAccess(deps: Deps, actor: Actor | null, org: string, project: string, env: string, svc: string): ServiceAccess {
  const access = envAccess(deps, actor, org, project, env);
  const row = findService(deps.db, access.env.id, svc);
  if (!row) throw new NotFound("Service");
  return { ...access, service: row };
}

/** A service by its id, wherever it lives; 404 unless the caller may see its organization. */
export function serviceAccessById(deps: Deps, actor: Actor | null, serviceId: string): ServiceAccess {
  const service = findServiceById(deps.db, serviceId);
  const env = service && findEnvById(deps.db, service.envId);
  const project = env && findProjectById(deps.db, env.projectId);
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
