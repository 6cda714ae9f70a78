// The self-healing loop of `ancla serve`, for the replicas of the local target (its supervision):
// replica events (and a full resync whenever the event stream (re)connects, plus a slow periodic
// one as a safety net) schedule reconcile passes per service. Passes of one service never overlap; a burst of events (kill,
// die, stop, start, restart) collapses into one pass. Stopped with the router.
import type { Deps } from "../../deps";
import { supervisedTarget, type EventWatcher } from "../../targets/target";
import { findServiceById } from "../services/repo";
import { reconcileService, type PassHooks } from "./reconcile";
import { noteExit, pruneSlots } from "./replicas";
import * as repo from "./repo";

export type SelfHealing = {
  /** Schedule a pass of one service (after a rollout ends, or a replica changed). */
  request: (serviceId: string, delayMs?: number) => void;
  /** A pass of every Docker service (what the event stream may have missed). */
  resync: () => void;
  stop: () => Promise<void>;
};

// events come in bursts (kill → die → stop → start → restart within milliseconds)
const DEBOUNCE_MS = 50;
const RESYNC_MS = 30_000;
// A resync's passes are spread out, each in its own timer: started together, 100 services' passes
// held the event loop for ~50–120 ms every 30 s (their synchronous reads back to back), which
// showed as a p99 of 40–80 ms on every API route under load. 10 ms apart, and all within 20 s.
const RESYNC_GAP_MS = 10;
const RESYNC_SPREAD_MS = 20_000;
const WARN_WINDOW_MS = 60_000;

const running = new WeakMap<object, SelfHealing>();

/** Ask this server's self-healing loop (when one runs) for a pass of the service. */
export function requestReconcile(deps: { db: object }, serviceId: string): void {
  running.get(deps.db)?.request(serviceId);
}

/** One line per message and window; repeats are counted into the next line written. */
function throttled(write: (message: string, fields: Record<string, unknown>) => void): (message: string, fields: Record<string, unknown>) => void {
  const last = new Map<string, { at: number; suppressed: number }>();
  return (message, fields) => {
    const now = Date.now();
    // per service too: one failing app must not hide another's failures for a minute
    const key = `${message}\u0000${String(fields.service ?? "")}`;
    const seen = last.get(key);
    if (seen && now - seen.at < WARN_WINDOW_MS) {
      seen.suppressed++;
      return;
    }
    if (last.size > 1000) last.clear(); // bounded: losing the counts only costs a repeated line
    last.set(key, { at: now, suppressed: 0 });
    write(message, seen?.suppressed ? { ...fields, suppressed: seen.suppressed } : fields);
  };
}

export function startSelfHealing(deps: Deps): SelfHealing {
  const abort = new AbortController();
  const timers = new Map<string, { at: number; timer: ReturnType<typeof setTimeout> }>();
  const active = new Map<string, Promise<void>>();
  const again = new Set<string>();
  const heals = new Set<Promise<unknown>>();
  const warn = throttled((m, f) => deps.logger.warn(`self-healing: ${m}`, f));
  const hooks: PassHooks = {
    request: (id, delayMs) => request(id, delayMs),
    warn,
    info: (m, f) => deps.logger.info(`self-healing: ${m}`, f),
    signal: abort.signal,
    track: (work) => {
      heals.add(work);
      void work.finally(() => heals.delete(work));
    },
  };

  const run = (serviceId: string) => {
    timers.delete(serviceId);
    if (abort.signal.aborted) return;
    if (active.has(serviceId)) return void again.add(serviceId);
    const pass = reconcileService(deps, hooks, serviceId)
      .catch((e) => warn("reconcile pass failed", { service: serviceId, error: (e as Error).message }))
      .finally(() => {
        active.delete(serviceId);
        if (again.delete(serviceId)) request(serviceId, 0);
      });
    active.set(serviceId, pass);
  };

  function request(serviceId: string, delayMs = DEBOUNCE_MS): void {
    if (abort.signal.aborted) return;
    const at = Date.now() + delayMs;
    const pending = timers.get(serviceId);
    if (pending && pending.at <= at) return; // an earlier pass is already due
    if (pending) clearTimeout(pending.timer);
    timers.set(serviceId, { at, timer: setTimeout(() => run(serviceId), delayMs) });
  }

  const resync = () => {
    try {
      const docker = repo.routableServices(deps.db).filter((s) => supervisedTarget(deps, s));
      pruneSlots(deps, new Set(docker.map((s) => s.id))); // deleted services leave nothing behind
      const gap = Math.min(RESYNC_GAP_MS, RESYNC_SPREAD_MS / Math.max(1, docker.length));
      docker.forEach((s, i) => request(s.id, Math.floor(i * gap)));
    } catch (e) {
      warn("resync failed", { error: (e as Error).message });
    }
  };

  let lost = false;
  const watcher: EventWatcher = deps.targets.local.supervision.watch({
    onEvent: (e) => {
      const serviceId = e.serviceId;
      // other servers' containers share the engine: only this database's services matter
      if (!serviceId || !findServiceById(deps.db, serviceId)) return;
      if (e.action === "die") noteExit(deps, e);
      request(serviceId);
    },
    onConnect: () => {
      if (lost) deps.logger.info("self-healing: Docker event stream reconnected; resyncing every service");
      lost = false;
      resync();
    },
    onDisconnect: (error, retryInMs) => {
      lost = true;
      warn("Docker event stream lost; reconnecting", { error, retry_in_ms: retryInMs });
    },
  });
  const periodic = setInterval(resync, RESYNC_MS);

  const handle: SelfHealing = {
    request,
    resync,
    async stop() {
      abort.abort();
      watcher.stop();
      clearInterval(periodic);
      for (const t of timers.values()) clearTimeout(t.timer);
      timers.clear();
      if (running.get(deps.db) === handle) running.delete(deps.db);
      // passes end quickly once aborted (a replacement waiting to become ready is removed)
      await Promise.race([Promise.allSettled([...active.values(), ...heals]), Bun.sleep(5000)]);
    },
  };
  running.set(deps.db, handle);
  return handle;
}
