// The router inside `ancla serve`: adopt running apps from the database and the engine, then
// listen on --router with the host map refreshed from the database on unknown hosts.
import { splitHostPort } from "../../config";
import type { Deps } from "../../deps";
import { startRouter, type RouterOptions, type RunningRouter } from "../../router/proxy";
import { routeTableOf } from "../../router/table";
import { createCertificateManager } from "../certificates/manager";
import { adoptRunningApps, refreshHosts } from "./routing";
import { startSelfHealing } from "./self-healing";

// renamed or removed hostnames (domains, slugs) stop routing within this long
const HOST_REFRESH_MS = 5000;

/**
 * Self-healing and certificate renewal change containers and the database: during a reload only
 * the process that owns the data dir runs them, so they pause and resume with the job worker (a
 * reload's successor, `takeOver`, starts with them paused).
 */
export type AppRouter = RunningRouter & { pauseBackground: () => Promise<void>; resumeBackground: () => void };

export async function startAppRouter(deps: Deps, hooks: Pick<RouterOptions, "onResponse" | "takeOver"> = {}): Promise<AppRouter> {
  await adoptRunningApps(deps);
  const { hostname, port } = splitHostPort(deps.config.router);
  const table = routeTableOf(deps);
  table.wsDrainMs = deps.config.wsDrainTimeout * 1000;
  // --https: certificates come from ACME (HTTP-01 answered by this router), served by SNI
  const certs = deps.config.https ? await createCertificateManager(deps, table) : undefined;
  const router = startRouter({
    hostname,
    port,
    table,
    refreshHosts: () => refreshHosts(deps),
    onError: (message, fields) => deps.logger.warn(message, fields),
    ...hooks,
    maxPerClient: deps.config.routerMaxPerClient,
    maxRequestBodySize: deps.config.routerMaxBodySize,
    https: certs && { ...splitHostPort(deps.config.https!), certificates: certs.certificates() },
    acme: certs?.hooks,
  });
  // replicas Docker restarts (new port) or that die are followed from here on
  let healing = hooks.takeOver ? undefined : startSelfHealing(deps);
  certs?.attach(router);
  const tickCerts = () => {
    if (!healing) return; // paused: another process owns the data dir
    try {
      certs?.tick();
    } catch (e) {
      deps.logger.warn("certificate check failed", { error: (e as Error).message });
    }
  };
  tickCerts();
  const timer = setInterval(() => {
    try {
      refreshHosts(deps);
    } catch (e) {
      deps.logger.warn("router host refresh failed", { error: (e as Error).message });
    }
    tickCerts();
  }, HOST_REFRESH_MS);
  return {
    ...router,
    async pauseBackground() {
      const h = healing;
      healing = undefined;
      await h?.stop();
    },
    resumeBackground() {
      healing ??= startSelfHealing(deps); // its first event-stream connect resyncs every service
      tickCerts();
    },
    async stop() {
      clearInterval(timer);
      await healing?.stop();
      await router.stop();
    },
  };
}
