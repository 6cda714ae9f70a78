// The router inside `ancla serve`: adopt running apps from the database and the engine, then
// listen on --router with the host map refreshed from the database on unknown hosts.
import { splitHostPort } from "../../config";
import type { Deps } from "../../deps";
import { startRouter, type RouterOptions, type RunningRouter } from "../../router/proxy";
import { routeTableOf } from "../../router/table";
import { adoptRunningApps, refreshHosts } from "./routing";
import { startSelfHealing } from "./self-healing";

// renamed or removed hostnames (domains, slugs) stop routing within this long
const HOST_REFRESH_MS = 5000;

export async function startAppRouter(deps: Deps, hooks: Pick<RouterOptions, "onResponse"> = {}): Promise<RunningRouter> {
  await adoptRunningApps(deps);
  const { hostname, port } = splitHostPort(deps.config.router);
  const router = startRouter({
    hostname,
    port,
    table: routeTableOf(deps),
    refreshHosts: () => refreshHosts(deps),
    onError: (message, fields) => deps.logger.warn(message, fields),
    ...hooks,
  });
  // replicas Docker restarts (new port) or that die are followed from here on
  const healing = startSelfHealing(deps);
  const timer = setInterval(() => {
    try {
      refreshHosts(deps);
    } catch (e) {
      deps.logger.warn("router host refresh failed", { error: (e as Error).message });
    }
  }, HOST_REFRESH_MS);
  return {
    ...router,
    async stop() {
      clearInterval(timer);
      await healing.stop();
      await router.stop();
    },
  };
}
