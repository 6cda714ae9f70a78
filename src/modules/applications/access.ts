// `{application_id}` of the reference family: a service id (any environment) or the path form
// `org/project/app` (the app in the project's default environment), and how routes name it.
import { NotFound } from "../../errors";
import type { Deps } from "../../deps";
import { isUuid } from "../../lib/ids";
import { requireUser, type Actor } from "../auth/service";
import { projectAccess } from "../projects/access";
import { findDefaultEnv } from "../envs/repo";
import { findService } from "../services/repo";
import { serviceAccessById, type ServiceAccess } from "../services/access";

export function applicationAccess(deps: Deps, actor: Actor | null, ref: string): ServiceAccess {
  if (isUuid(ref)) return serviceAccessById(deps, actor, ref);
  const parts = ref.split("/");
  if (parts.length !== 3 || parts.some((p) => !p)) {
    requireUser(actor);
    throw new NotFound("Application");
  }
  const [org, project, app] = parts as [string, string, string];
  const access = projectAccess(deps, actor, org, project);
  const env = findDefaultEnv(deps.db, access.project.id);
  const service = env && findService(deps.db, env.id, app);
  if (!env || !service) throw new NotFound("Application");
  return { ...access, env, service };
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
