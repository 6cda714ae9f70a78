// `ancla serve`: open the data dir, listen for the API, run background workers, shut down cleanly.
import type { ServeConfig } from "./config";
import { splitHostPort } from "./config";
import { createDeps, closeDeps, type Deps } from "./deps";
import { createApp } from "./app";
import { ensureInitialAdmin } from "./bootstrap";
import { startWorker } from "./pipeline/worker";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { PID_FILE } from "./modules/config/rotate";
import { startAppRouter } from "./modules/deployments/serve";

export type RunningServer = { deps: Deps; url: string; stop: () => Promise<void> };

export async function startServer(config: ServeConfig, out: (line: string) => void = console.log): Promise<RunningServer> {
  const deps = createDeps(config);
  // the key now lives in deps.secrets; child processes (git, builds) must not inherit it
  delete process.env.ANCLA_MASTER_KEY;
  // lets one-off commands that must not run beside a server (rotate-master-key) notice one
  const pidFile = join(config.dataDir, PID_FILE);
  writeFileSync(pidFile, String(process.pid));
  const app = createApp(deps); // importing the modules registers their job handlers
  // the API listens before the Docker round trips below (adoption takes 150–600 ms here); new jobs
  // only queue until the worker starts, so nothing a request does depends on them having finished
  const { hostname, port } = splitHostPort(config.listen);
  app.listen({ hostname, port, maxRequestBodySize: config.maxContextSize + 1024 * 1024 });
  const url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${app.server!.port}`;
  out(`ancla listening on ${url}`);
  // after listen: hashing the first admin's password (argon2id) takes ~150 ms on a first start
  const admin = await ensureInitialAdmin(deps);
  const worker = await startWorker(deps); // first finishes jobs a previous run left `running`
  const router = await startAppRouter(deps); // re-adopts running apps, then serves them on --router
  out(`ancla router listening on ${router.url}`);
  // --router 127.0.0.1:0 binds any free port: app URLs (dashboard info, `ancla deploy`) need the real one
  if (splitHostPort(config.router).port === 0) config.router = new URL(router.url).host;
  if (admin) {
    out(`created server admin 'admin' (${config.adminEmail}) with password: ${admin.password}`);
    out(`the credentials are saved in ${admin.file}`);
  }
  let stopped = false;
  const stop = async () => {
    if (stopped) return;
    stopped = true;
    await app.stop(false); // false: let in-flight requests finish
    await router.stop(); // app containers keep running; the next start adopts them
    await worker.stop(); // running jobs are aborted and recovered as interrupted on the next start
    closeDeps(deps);
    rmSync(pidFile, { force: true });
  };
  return { deps, url, stop };
}

/** Run until SIGINT/SIGTERM, then drain and resolve. */
export async function serveUntilSignal(config: ServeConfig): Promise<void> {
  // handlers first: a signal that arrives while starting (after "listening" is printed) still drains
  const signalled = new Promise<void>((resolve) => {
    process.once("SIGINT", () => resolve());
    process.once("SIGTERM", () => resolve());
  });
  const server = await startServer(config);
  await signalled;
  server.deps.logger.info("shutting down");
  await server.stop().catch(() => undefined);
}
