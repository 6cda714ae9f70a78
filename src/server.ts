// `ancla serve`: open the data dir, listen for the API, run background workers, shut down cleanly,
// and hand everything to a new process on SIGHUP (modules/ops/handover.ts) without a dropped request.
//
// Start-up order: only the data dir (deps) and the listener (front.ts) come before listen. Right
// after it the app is made (route-groups.ts: the global hooks, no route yet; each module's route
// group is evaluated and mounted on the first request that falls in it) and handed to the listener;
// then the wiring, the router, the job worker and the background loops are imported (dynamic
// imports: a compiled binary evaluates them only then), one per event-loop turn so a request that
// arrives meanwhile is answered between two. A request that comes before the app waits for it
// (deferredApp); the health probe is answered by the front without it.
import type { RunningSshServer } from "./modules/exec/ssh-server";
import type { ServeConfig } from "./config";
import { splitHostPort } from "./config";
import { createDeps, closeDeps, type Deps } from "./deps";
import type { LazyApp as App } from "./route-groups";
import { listenApi, type FrontApp, type Listener } from "./front";
import { SERVER_BODY_CAP } from "./lib/body-limit";
import type { Worker } from "./jobs/worker";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { PID_FILE } from "./modules/config-vars/rotate";
import { Conflict } from "./errors";
import { lockDataDir, type DataDirLock } from "./lib/data-dir-lock";
import { ownAcceptQueue, probeFreePort, steerPorts } from "./lib/listeners";
import { sdNotify } from "./lib/sd-notify";
import type { BackupSchedule } from "./modules/backups/schedule";
import { setRuntime } from "./modules/ops/runtime";
import { handOver, reloadCommand, takeHandover, writeReloadStatus, type HandoverChild, type ReloadOutcome } from "./modules/ops/handover";

export type RunningServer = { deps: Deps; url: string; stop: () => Promise<void>; reload: () => Promise<ReloadOutcome> };

/**
 * In-flight requests get this long to finish at shutdown; then connections are closed. Streaming
 * responses (log follows) do not wait for it: they end as soon as deps.shutdown is aborted.
 */
const DRAIN_MS = 10_000;
/**
 * At a handover, after new connections go to the new process: keep-alive clients get
 * `Connection: close` on their next response for at least this long, and the listeners close
 * only once their accept queues are empty (closing a listener resets what is still queued on it;
 * on a loaded machine this process may take a while to accept them), within HANDOVER_MAX_MS.
 */
const HANDOVER_GRACE_MS = 500;
const HANDOVER_MAX_MS = 5000;
/** A reload's new process waits this long for the old one's data dir lock. */
const LOCK_WAIT_MS = 15_000;

/** One turn of the event loop: the API answers the requests it has accepted before the next start-up step. */
const answerPending = () => new Promise<void>((resolve) => setImmediate(resolve));

/** Bun's "Failed to start server. Is port N in use?" as a sentence naming the address; else e. */
function bindError(e: unknown, what: string, address: string): unknown {
  return (e as { code?: string }).code === "EADDRINUSE" ? new Conflict(`${what} address ${address} is already in use; stop whatever listens there or choose another port.`) : e;
}

async function lockWhenFree(dataDir: string, pidFile: string): Promise<DataDirLock> {
  const deadline = Date.now() + LOCK_WAIT_MS;
  for (;;) {
    try {
      return lockDataDir(dataDir, pidFile);
    } catch (e) {
      if (Date.now() > deadline) throw e;
      await Bun.sleep(25);
    }
  }
}

/**
 * What serve needs once the app answers, imported then one module per event-loop turn: a request
 * that arrives meanwhile waits for one module's evaluation, not for all of them. The route modules
 * are not among them: each group is evaluated on the first request that falls in it (route-groups.ts).
 */
async function importAfterListen() {
  const step = async <T>(load: () => Promise<T>): Promise<T> => {
    await answerPending();
    return load();
  };
  // job handlers and hooks before the worker starts (route-groups.ts's wire(): a group that needs them waits for the same)
  const { wire } = await import("./route-groups");
  await step(wire);
  const bootstrap = await step(() => import("./bootstrap"));
  const worker = await step(() => import("./jobs/worker"));
  const router = await step(() => import("./modules/deployments/serve"));
  const sampler = await step(() => import("./modules/observability/sampler"));
  const routerMetrics = await step(() => import("./modules/observability/router-metrics"));
  const backups = await step(() => import("./modules/backups/schedule"));
  const integrations = await step(() => import("./modules/integrations/background"));
  const ssh = await step(() => import("./modules/exec/ssh-server"));
  const exec = await step(() => import("./modules/exec/sessions"));
  return {
    ensureInitialAdmin: bootstrap.ensureInitialAdmin,
    startWorker: worker.startWorker,
    startAppRouter: router.startAppRouter,
    routerMetrics: routerMetrics.routerMetrics,
    startSampler: sampler.startSampler,
    startBackupSchedule: backups.startBackupSchedule,
    startIntegrations: integrations.startIntegrations,
    startSshServer: ssh.startSshServer,
    setExecEndpoint: exec.setExecEndpoint,
  };
}
type AfterListen = Awaited<ReturnType<typeof importAfterListen>>;

/**
 * The app as the listener holds it before it is built: `build` composes it (once), a request that
 * comes first waits for it. `server` is kept until then and handed to the app once it is compiled:
 * Elysia's WebSocket routes upgrade through it.
 */
function deferredApp(): FrontApp & { build: (make: () => Promise<App>) => Promise<App> } {
  let app: App | undefined;
  let server: unknown = null;
  const ready = Promise.withResolvers<App>();
  ready.promise.catch(() => undefined); // a failed build fails the start (startServer awaits build)
  return {
    fetch: (request) => (app ? app.fetch(request) : ready.promise.then((a) => a.fetch(request))),
    compile: () => app?.compile(),
    get server() {
      return app ? app.server : server;
    },
    set server(value) {
      if (app) app.server = value as App["server"];
      else server = value;
    },
    // listenApi compiles again and gives the server its handlers back once these settle
    modules: ready.promise.then((a) => a.modules),
    build: async (make) => {
      try {
        const built = await make();
        await answerPending(); // composed; Elysia compiles its router and handlers in a second stretch
        built.compile();
        built.server = server as App["server"];
        app = built;
        ready.resolve(built);
        return built;
      } catch (e) {
        ready.reject(e);
        throw e;
      }
    },
  };
}

/** Job worker, usage sampler, scheduled backups: one process at a time runs them, so a handover stops and starts them. */
function backgroundWork(deps: Deps, { startWorker, startSampler, startBackupSchedule, startIntegrations }: AfterListen) {
  let worker: Worker | undefined;
  let sampler: { stop: () => Promise<void> | void } | undefined;
  let backups: BackupSchedule | undefined;
  let previews: { stop: () => Promise<void> } | undefined;
  return {
    /** First finishes jobs a previous run left `running` (interrupted), then picks new ones. */
    startJobs: async () => void (worker ??= await startWorker(deps)),
    /** After app adoption: the replica list the sampler reads is current. */
    startLoops: () => {
      sampler ??= startSampler(deps);
      backups ??= startBackupSchedule(deps);
      previews ??= startIntegrations(deps); // the registry signing key; preview states and their idle TTL
    },
    async stop() {
      await backups?.stop(); // a backup being written finishes first
      await sampler?.stop();
      await previews?.stop();
      previews = undefined;
      await worker?.stop(); // running jobs are aborted and recovered as interrupted by the next start
      sampler = worker = backups = undefined;
    },
  };
}

export async function startServer(config: ServeConfig, out: (line: string) => void = console.log, handover: HandoverChild | null = null): Promise<RunningServer> {
  // one server per data dir, decided before anything in it is changed (the lock also writes
  // serve.pid, which rotate-master-key and `ancla upgrade` read)
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const pidFile = join(config.dataDir, PID_FILE);
  if (handover) {
    // the parent's real addresses (port 0 in the flags was a free port it picked)
    Object.assign(config, handover.addresses);
    await handover.waitForDataDir();
  }
  let lock = handover ? await lockWhenFree(config.dataDir, pidFile) : lockDataDir(config.dataDir, pidFile);
  const cleanups: (() => Promise<unknown> | unknown)[] = [() => lock.release()];
  const unwind = async () => {
    while (cleanups.length) await Promise.resolve(cleanups.pop()!()).catch(() => undefined);
  };
  try {
    const deps = createDeps(config); // also tightens the data dir's permissions (and says so)
    cleanups.push(() => closeDeps(deps));
    // the key now lives in deps.secrets; child processes (git, builds) must not inherit it
    delete process.env.ANCLA_MASTER_KEY;
    const app = deferredApp(); // built just after listen; the wiring (job handlers, hooks) comes before the worker
    // the API listens before the Docker round trips below (adoption takes 150–600 ms here); new jobs
    // only queue until the worker starts, so nothing a request does depends on them having finished
    const { hostname } = splitHostPort(config.listen);
    let port = splitHostPort(config.listen).port;
    let api: Listener;
    try {
      // SO_REUSEPORT so a reload can share the port with its successor; the probe (no reuse) first
      // keeps a second server on a busy port an error. A handover's port is busy by design.
      if (!handover) port = probeFreePort(hostname, port);
      // no body cap in Bun (it would answer chunked bodies with an empty 413): readers count (lib/body-limit.ts)
      // front.ts: hot repeats and the health probe are answered before Elysia, the rest by the app
      api = listenApi(deps, app, { hostname, port, reusePort: true, maxRequestBodySize: SERVER_BODY_CAP });
    } catch (e) {
      throw bindError(e, "API", config.listen);
    }
    const listener = api;
    cleanups.push(() => listener.stop(true));
    const url = `http://${hostname.includes(":") ? `[${hostname}]` : hostname}:${listener.server.port}`;
    out(`ancla listening on ${url}`);
    // --listen 127.0.0.1:0 binds any free port: links built from it (the exec WebSocket URL) need the real one
    if (splitHostPort(config.listen).port === 0) config.listen = new URL(url).host;
    // now the app's modules, the router, the worker: a request that came meanwhile gets its answer once the app is built
    const built = await app.build(async () => (await import("./route-groups")).createLazyApp(deps));
    // the requests that waited for the app get their groups before the imports below take turns
    await answerPending();
    await built.settled();
    const later = await importAfterListen();
    // after listen: hashing the first admin's password (argon2id) takes ~150 ms on a first start
    const admin = await later.ensureInitialAdmin(deps);
    const work = backgroundWork(deps, later);
    let stopped = false;
    cleanups.push(() => work.stop());
    // each start-up step below runs long stretches without awaiting (job recovery, loading the
    // Docker client, reconciling every service): requests that arrived meanwhile are answered first
    await answerPending();
    if (!handover) await work.startJobs();
    await answerPending();
    const router = await later.startAppRouter(deps, { onResponse: later.routerMetrics(deps), takeOver: Boolean(handover) }).catch((e) => Promise.reject(bindError(e, "router", config.router))); // re-adopts running apps, then serves them on --router
    out(`ancla router listening on ${router.url}`);
    setRuntime(deps, { startedAt: new Date(), router: { url: router.url, httpsPort: router.httpsPort } });
    if (router.httpsPort) out(`ancla https listening on port ${router.httpsPort}`);
    // a reload's successor binds SSH once the old process let go of it (no port sharing there)
    const ssh = startSsh(deps, later, handover ? handover.released : Promise.resolve(), out, handover ? 10_000 : 0);
    cleanups.push(() => void ssh.then((s) => s?.close()));
    // --router 127.0.0.1:0 binds any free port: app URLs (dashboard info, `ancla deploy`) need the real one
    if (splitHostPort(config.router).port === 0) config.router = new URL(router.url).host;
    const ports = [listener.server.port!, router.port, ...(router.httpsPort ? [router.httpsPort] : [])];
    // a reload's successor that binds the same ports gets no new connection until it is ready and
    // this process steers them over (lib/listeners); set up when a reload starts, not here: a server
    // alone in its port's group gets every connection anyway (and start-up skips libc and /proc)
    const keepPorts = () => {
      if (!steerPorts(ports, 0)) deps.logger.warn("cannot steer connections between processes (libc via bun:ffi unavailable): a reload may reset a few connections");
    };
    await answerPending();
    if (handover) {
      handover.ready();
      void handover.released.then(async () => {
        if (stopped) return;
        router.resumeBackground();
        await work.startJobs();
        work.startLoops();
        sdNotify({ MAINPID: process.pid, READY: 1 });
        deps.logger.info("reload complete: this process now serves alone", { pid: process.pid });
      });
    } else {
      work.startLoops();
      sdNotify({ READY: 1 });
    }
    if (admin) {
      out(`created server admin 'admin' (${config.adminEmail}) with password: ${admin.password}`);
      out(`the credentials are saved in ${admin.file}`);
    }
    /** Stop serving. `handedOver`: new connections already go to the successor; let queued ones in first. */
    const stop = async (handedOver = false) => {
      if (stopped) return;
      stopped = true;
      deps.shutdown.abort(); // streaming responses end now; responses from here on say Connection: close
      if (handedOver) {
        router.drain();
        await Bun.sleep(HANDOVER_GRACE_MS);
        const until = Date.now() + HANDOVER_MAX_MS;
        while (ownAcceptQueue(ports) > 0 && Date.now() < until) await Bun.sleep(20);
      }
      // false: let in-flight requests finish, within DRAIN_MS; then close what is left
      const drained = await Promise.race([listener.stop(false).then(() => true), Bun.sleep(DRAIN_MS).then(() => false)]);
      if (!drained) await listener.stop(true);
      await router.stop(); // app containers keep running; the next start adopts them
      await (await ssh)?.close(); // exec sessions end with it
      await work.stop();
      closeDeps(deps);
      lock.release(); // also removes serve.pid (when it is still ours)
    };
    let reloading: Promise<ReloadOutcome> | undefined;
    const reload = () =>
      (reloading ??= (async () => {
        if (handover) await handover.released; // still taking over from our own parent
        keepPorts(); // before the successor binds: it gets nothing until drain() below
        const from = process.pid;
        setRuntime(deps, { reloading: true });
        writeReloadStatus(config.dataDir, { state: "reloading", from, at: new Date().toISOString() });
        const outcome = await handOver({
          command: reloadCommand(),
          addresses: { listen: new URL(url).host, router: config.router, ...(router.httpsPort ? { https: `${splitHostPort(config.https!).hostname}:${router.httpsPort}` } : {}) },
          masterKey: config.masterKey,
          timeoutMs: config.reloadTimeout * 1000,
          logger: deps.logger,
          yieldDataDir: async () => {
            await router.pauseBackground();
            await work.stop();
            lock.release();
          },
          reclaimDataDir: async () => {
            lock = await lockWhenFree(config.dataDir, pidFile);
            router.resumeBackground();
            await work.startJobs();
            work.startLoops();
          },
          drain: async () => {
            steerPorts(ports, 1);
            await stop(true);
          },
        });
        const at = new Date().toISOString();
        if (outcome.ok) writeReloadStatus(config.dataDir, { state: "complete", from, to: outcome.pid, at });
        else {
          writeReloadStatus(config.dataDir, { state: "failed", from, message: outcome.message, at });
          deps.logger.error(`reload failed: ${outcome.message}; still serving from this process`, { pid: from });
        }
        reloading = undefined;
        setRuntime(deps, { reloading: false });
        return outcome;
      })());
    return { deps, url, stop: () => stop(), reload };
  } catch (e) {
    await unwind();
    throw e;
  }
}

/** Run until SIGINT/SIGTERM (drain, resolve) or a SIGHUP whose reload handed everything over. */
export async function serveUntilSignal(config: ServeConfig): Promise<void> {
  // handlers first: a signal that arrives while starting (after "listening" is printed) still counts
  const queue: ("stop" | "reload")[] = [];
  let wake: () => void = () => {};
  const push = (what: "stop" | "reload") => () => (queue.push(what), wake());
  process.on("SIGINT", push("stop"));
  process.on("SIGTERM", push("stop"));
  process.on("SIGHUP", push("reload"));
  const server = await startServer(config, console.log, takeHandover());
  for (;;) {
    if (!queue.length) await new Promise<void>((r) => (wake = r));
    const what = queue.shift()!;
    if (what === "stop") break;
    server.deps.logger.info("reload requested: starting the binary on disk", { command: reloadCommand()[0] });
    const outcome = await server.reload();
    if (outcome.ok) return; // the new process serves; this one has drained and stopped
  }
  server.deps.logger.info("shutting down");
  await server.stop().catch(() => undefined);
}

/** The exec SSH server (--ssh); a failure to bind is a warning: exec answers with port 0 then. */
async function startSsh(deps: Deps, { startSshServer, setExecEndpoint }: AfterListen, after: Promise<unknown>, out: (line: string) => void, retryMs: number): Promise<RunningSshServer | null> {
  const address = deps.config.ssh;
  if (address === "off") return null;
  await after;
  const { hostname, port } = splitHostPort(address);
  try {
    // after a reload the old process may still be closing its SSH listener
    const deadline = Date.now() + retryMs;
    let server: RunningSshServer;
    for (;;) {
      try {
        server = await startSshServer(deps, hostname, port);
        break;
      } catch (e) {
        if ((e as { code?: string }).code !== "EADDRINUSE" || Date.now() >= deadline) throw e;
        await Bun.sleep(250);
      }
    }
    const wildcard = hostname === "0.0.0.0" || hostname === "::" || hostname === "";
    const sshHost = wildcard ? (deps.config.publicUrl ? new URL(deps.config.publicUrl).hostname : "127.0.0.1") : hostname;
    setExecEndpoint(deps, { sshHost, sshPort: server.port });
    out(`ancla ssh listening on ${hostname.includes(":") ? `[${hostname}]` : hostname}:${server.port}`);
    return server;
  } catch (e) {
    deps.logger.warn("the exec SSH server did not start; ancla shell/ssh of the published CLI will not connect", { address, error: (e as Error).message });
    return null;
  }
}
