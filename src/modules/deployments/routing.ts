// Keeps the router's table in step with the database and the engine: hostnames of every service,
// the serving web replicas of each (the latest complete deployment), and on start the re-adoption
// of running containers plus the removal of managed containers nothing serves any more.
import type { Deps } from "../../deps";
import { hostnamesFor } from "../../router/hosts";
import { routeTableOf } from "../../router/table";
import { isWebProcess, supervisedTarget, type FoundReplica, type TargetEnv } from "../../targets/target";
import * as repo from "./repo";
import { cleanupTarget } from "./targets";
import { baseDomainOf, customDomainOwners, isUnderDomain, reconcileDomains } from "../services/domains";

const reconciled = new WeakSet<object>();

/**
 * Rebuild the hostname → service map and the per-service upstream timeouts from the database.
 * Generated names go first and win; a custom domain comes from service_domains (one owner per
 * name by its primary key) and is never served when it falls under --domain, where names are
 * reserved for generated hostnames (rows from before that rule included).
 */
export function refreshHosts(deps: Deps): void {
  // once per database, before the first map is built (at start): settle domains that migration
  // 0005 found listed by two services
  if (!reconciled.has(deps.db)) {
    reconciled.add(deps.db);
    reconcileDomains(deps);
  }
  const map = new Map<string, string>();
  const timeouts = new Map<string, number>();
  for (const s of repo.routableServices(deps.db)) {
    for (const host of hostnamesFor({ ...s, domains: [] }, deps.config.domain)) map.set(host, s.id);
    timeouts.set(s.id, s.upstreamTimeout * 1000);
  }
  const base = baseDomainOf(deps);
  for (const { hostname, serviceId } of customDomainOwners(deps.db)) {
    if (!map.has(hostname) && !isUnderDomain(hostname, base)) map.set(hostname, serviceId);
  }
  const table = routeTableOf(deps);
  table.setHosts(map);
  table.setUpstreamTimeouts(timeouts);
}

/** Web replicas of the service's current deployment, as recorded when it completed. */
export function servingWeb(deps: Deps, serviceId: string): { id: string; port: number }[] {
  const current = repo.currentDeployment(deps.db, serviceId);
  return (current?.metadata.replicas ?? []).filter((r) => isWebProcess(r.process) && r.hostPort).map((r) => ({ id: r.id, port: r.hostPort! }));
}

/**
 * On start: the interrupted deployments were already finished (job recovery). Re-read each
 * service's serving replicas from the engine (ports may change when the engine restarts), serve
 * them again, and remove managed containers of this server's services that nothing serves.
 */
export async function adoptRunningApps(deps: Deps): Promise<{ adopted: number; removed: number }> {
  refreshHosts(deps);
  const table = routeTableOf(deps);
  const target = deps.targets.local;
  const services = repo.routableServices(deps.db).filter((s) => supervisedTarget(deps, s));
  const known = new Set(services.map((s) => s.id));
  let containers: FoundReplica[];
  try {
    containers = await target.findReplicas();
  } catch (e) {
    deps.logger.warn("router: the Docker engine is not reachable; apps are not served until it is", { error: (e as Error).message });
    return { adopted: 0, removed: 0 };
  }
  const busy = new Set(repo.unfinished(deps.db).map((d) => d.id));
  const stale: string[] = [];
  let adopted = 0;
  const servingIds = new Set<string>();
  for (const s of services) {
    const current = repo.currentDeployment(deps.db, s.id);
    const replicas = current?.metadata.replicas ?? [];
    const release = current?.releaseId;
    const web: { id: string; port: number }[] = [];
    for (const r of replicas) {
      servingIds.add(r.id);
      if (!isWebProcess(r.process)) continue;
      const state = await target.inspectReplica(r.id, Number(current?.metadata.port ?? 0)).catch(() => null);
      const port = state?.hostPort ?? r.hostPort;
      if (state && port) web.push({ id: r.id, port });
    }
    if (release && replicas.length && web.length === 0) {
      // the recorded web containers are gone (recreated outside ancla?): adopt running web
      // containers of the serving release by their labels
      for (const c of containers) {
        if (c.serviceId !== s.id || c.releaseId !== release || c.process !== "web" || !c.running) continue;
        if (busy.has(c.deploymentId ?? "")) continue;
        const state = await target.inspectReplica(c.id, Number(current?.metadata.port ?? 0)).catch(() => null);
        if (state?.hostPort) {
          web.push({ id: c.id, port: state.hostPort });
          servingIds.add(c.id);
        }
      }
    }
    // a deploy that started meanwhile owns the table for this service
    if (release && repo.currentDeployment(deps.db, s.id)?.id === current?.id && !table.replicasOf(s.id).length) table.setReplicas(s.id, web);
    adopted += web.length;
  }
  for (const c of containers) {
    const serviceId = c.serviceId;
    if (!serviceId || !known.has(serviceId)) continue; // another server's (or a deleted service's) container
    if (servingIds.has(c.id) || busy.has(c.deploymentId ?? "")) continue;
    stale.push(c.id);
  }
  if (stale.length) await target.removeReplicas(stale, 2);
  if (adopted || stale.length) deps.logger.info("router: adopted running apps", { replicas: adopted, removed: stale.length });
  return { adopted, removed: stale.length };
}

/** Remove a deleted service's replicas (on its environment's target) and routes; resolves once none is left and none can be healed back (DeployTarget.teardown). */
export async function teardownService(deps: Deps, env: TargetEnv | undefined, serviceId: string): Promise<void> {
  routeTableOf(deps).setReplicas(serviceId, []);
  await cleanupTarget(deps, env).teardown(serviceId);
  refreshHosts(deps);
}

/**
 * A deleted project, in the background: teardownService for each service of each of its
 * environments, then the project's own resources on the local engine (its network), once nothing
 * of it is left there. Failures are logged.
 */
export function teardownProjectInBackground(deps: Deps, projectId: string, envs: { env: TargetEnv; serviceIds: string[] }[]): void {
  void Promise.all(envs.flatMap(({ env, serviceIds }) => teardownLogged(deps, env, serviceIds)))
    .then(() => deps.targets.local.removeProject?.(projectId))
    .catch((e) => deps.logger.warn("project network removal failed", { project: projectId, error: (e as Error).message }));
}

/** teardownService for several deleted services of `env`, in the background; failures are logged. */
export function teardownInBackground(deps: Deps, env: TargetEnv, serviceIds: string[]): void {
  void teardownLogged(deps, env, serviceIds);
}

/** teardownService of each service: one promise per service, settled when its teardown ended (a failure logged, never thrown). */
function teardownLogged(deps: Deps, env: TargetEnv, serviceIds: string[]): Promise<void>[] {
  return serviceIds.map((id) => teardownService(deps, env, id).catch((e) => deps.logger.warn("service teardown failed", { service: id, error: (e as Error).message })));
}
