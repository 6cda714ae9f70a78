// The hosted Ancla's dashboard paths, which the published `ancla open` opens:
// /dashboard, /dashboard/orgs/{org}, …/projects/{project}, …/apps/{app}. They redirect to this
// dashboard's pages; an app is the service of the project's default environment.
import type { Deps } from "../../deps";
import type { Actor } from "../auth/service";
import { defaultEnvAccess } from "../envs/access";

const seg = (s: string) => encodeURIComponent(s);

/** The default environment's slug when the caller may see the project; else `production` (what every project starts with), so nothing leaks. */
function defaultEnvSlug(deps: Deps, actor: Actor | null, org: string, project: string): string {
  try {
    return defaultEnvAccess(deps, actor, org, project).env.slug;
  } catch {
    return "production";
  }
}

/** Where a `/dashboard…` path lives in this dashboard (the deepest part that makes sense; `/` otherwise). */
export function dashboardRedirect(deps: Deps, actor: Actor | null, pathname: string): string {
  let parts: string[];
  try {
    parts = pathname.split("/").filter(Boolean).slice(1).map(decodeURIComponent);
  } catch {
    return "/";
  }
  const [orgs, org, projects, project, apps, app] = parts;
  if (orgs !== "orgs" || !org) return "/";
  const orgPath = `/orgs/${seg(org)}`;
  if (projects !== "projects" || !project) return orgPath;
  const projectPath = `${orgPath}/projects/${seg(project)}`;
  if (apps !== "apps" || !app) return projectPath;
  return `${projectPath}/envs/${seg(defaultEnvSlug(deps, actor, org, project))}/services/${seg(app)}`;
}
