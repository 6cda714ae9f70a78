// `ancla serve`: open the data dir, listen for the API, run background workers, shut down cleanly.
import type { ServeConfig } from "./config";
import { splitHostPort } from "./config";
import { createDeps, closeDeps, type Deps } from "./deps";
import { createApp } from "./app";
import { SERVER_BODY_CAP } from "./lib/body-limit";
import { ensureInitialAdmin } from "./bootstrap";
import { startWorker } from "./jobs/worker";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PID_FILE } from "./modules/config-vars/rotate";
import { startAppRouter } from "./modules/deployments/serve";
import { routerMetrics, startSampler } from "./modules/observability";
import { Conflict } from "./errors";
import { secureDataDir } from "./lib/data-dir";
import { lockDataDir } from "./lib/data-dir-lock";

export type RunningServer = { deps: Deps; url: string; stop: () => Promise<void> };

/**
 * In-flight requests get this long to finish at shutdown; then connections are closed. Streaming
 * responses (log follows) do not wait for it: they end as soon as deps.shutdown is aborted.
 */
const DRAIN_MS = 10_000;

/** Bun's "Failed to start server. Is port N in use?" as a sentence naming the address; else e. */
function bindError(e: unknown, what: string, address: string): unknown {
  return (e as { code?: string }).code === "EADDRINUSE" ? new Conflict(`${what} address ${address} is already in use; stop whatever listens there or choose another port.`) : e;
}

export async function startServer(config: ServeConfig, out: (line: string) => void = console.log): Promise<RunningServer> {
  // one server per data dir, decided before anything in it is changed (the lock also writes
  // serve.pid, which rotate-master-key reads to refuse running beside a server)
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const lock = lockDataDir(config.dataDir, join(config.dataDir, PID_FILE));
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => lock.release()];
  const unwind = async () => {
    while (cleanups.length) await Promise.resolve(cleanups.pop()!()).catch(() => undefined);
  };
  try {
    const tightened = secureDataDir(config.dataDir);
    const deps = createDeps(config);
    cleanups.push(() => closeDeps(deps));
    if (tightened.length) deps.logger.warn("tightened data dir permissions (only the owner may read it)", { changed: tightened });
    // the key now lives in deps.secrets; child processes (git, builds) must not inherit it
    delete process.env.ANCLA_MASTER_KEY;
    const app = createApp(deps); // importing the modules registers their job handlers
    // the API listens before the Docker round trips below (adoption takes 150–600 ms here); new jobs
    // only queue until the worker starts, so nothing a request does depends on them having finished
    const { hostname, port } = splitHostPort(config.listen);
    try {
      // reusePort off (Elysia turns it on): a second server on a busy port must fail, not share it
      // no body cap in Bun (it would answer chunked bodies with an empty 413): readers count (lib/body-limit.ts)
      app.listen({ hostname, port, reusePort: false, maxRequestBodySize: SERVER_BODY_CAP });
    } catch (e) {
      throw bindError(e, "API", config.listen);
    }
    cleanups.push(() => app.stop(true));
    const url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${app.server!.port}`;
    out(`ancla listening on ${url}`);
    // after listen: hashing the first admin's password (argon2id) takes ~150 ms on a first start
    const admin = await ensureInitialAdmin(deps);
    const worker = await startWorker(deps); // first finishes jobs a previous run left `running`
    cleanups.push(() => worker.stop());
    const router = await startAppRouter(deps, { onResponse: routerMetrics(deps) }).catch((e) => Promise.reject(bindError(e, "router", config.router))); // re-adopts running apps, then serves them on --router
    out(`ancla router listening on ${router.url}`);
    if (router.httpsPort) out(`ancla https listening on port ${router.httpsPort}`);
    const sampler = startSampler(deps); // after adoption: the replica list it reads is current
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
      deps.shutdown.abort(); // streaming responses end now instead of holding the drain open
      // false: let in-flight requests finish, within DRAIN_MS; then close what is left
      const drained = await Promise.race([app.stop(false).then(() => true), Bun.sleep(DRAIN_MS).then(() => false)]);
      if (!drained) await app.stop(true);
      await sampler.stop();
      await router.stop(); // app containers keep running; the next start adopts them
      await worker.stop(); // running jobs are aborted and recovered as interrupted on the next start
      closeDeps(deps);
      lock.release(); // also removes serve.pid
    };
    return { deps, url, stop };
  } catch (e) {
    await unwind();
    throw e;
  }
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
