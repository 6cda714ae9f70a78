// Who may see an environment (the project's rules, then the environment by slug or id), and who
// may deploy into it.
import { Forbidden, NotFound } from "../../errors";
import type { Deps } from "../../deps";
import type { Actor } from "../auth/service";
import { projectAccess, type ProjectAccess } from "../projects/access";
import { findDefaultEnv, findEnv, type EnvRow } from "./repo";

export type EnvAccess = ProjectAccess & { env: EnvRow };

export function envAccess(deps: Deps, actor: Actor | null, org: string, project: string, env: string): EnvAccess {
  const access = projectAccess(deps, actor, org, project);
  const row = findEnv(deps.db, access.project.id, env);
  if (!row) throw new NotFound("Environment");
  return { ...access, env: row };
}

/** The project's default environment (where reference-family Applications live). */
export function defaultEnvAccess(deps: Deps, actor: Actor | null, org: string, project: string): EnvAccess {
  const access = projectAccess(deps, actor, org, project);
  const env = findDefaultEnv(deps.db, access.project.id);
  if (!env) throw new NotFound("Environment");
  return { ...access, env };
}

/** Deploys, rollbacks, scaling and promotions into a protected environment need an org admin. */
export function assertMayDeploy(access: EnvAccess): void {
  if (access.env.protected && !access.isAdmin) {
    throw new Forbidden(`Environment '${access.env.slug}' is protected; only organization admins may deploy to it.`);
  }
}
