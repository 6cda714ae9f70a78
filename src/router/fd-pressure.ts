// A bound on idle keep-alive connections, which Bun.serve does not let the router count per
// client (no connection events): once a second the process's open descriptors are counted, and
// past `max` (default 80% of the soft RLIMIT_NOFILE) every idle keep-alive connection of the
// router's listeners is closed (`closeIdleConnections()`; requests in flight and WebSockets are
// untouched, clients reconnect). Without it one address could hold connections until the process
// — the API server included — had no descriptor left to accept with. Connections that never sent
// a request are not "idle" to Bun; its own ~10 s header timer closes those.
import { readdirSync, readFileSync } from "node:fs";

/** The soft limit on open files of this process, or null where /proc is not there. */
export function openFileLimit(): number | null {
  try {
    const line = readFileSync("/proc/self/limits", "utf8").split("\n").find((l) => l.startsWith("Max open files"));
    const soft = Number(line?.slice("Max open files".length).trim().split(/\s+/)[0]);
    return Number.isFinite(soft) && soft > 0 ? soft : null; // "unlimited" → NaN → null
  } catch {
    return null;
  }
}

/** Open descriptors of this process (the directory's own descriptor not counted), or null. */
export function openFiles(): number | null {
  try {
    return readdirSync("/proc/self/fd").length - 1;
  } catch {
    return null;
  }
}

export const PRESSURE_SHARE = 0.8;

/** Starts the check; returns its stop. `closeIdle` closes idle connections and says how many. */
export function startFdValve(opts: { max?: number; closeIdle: () => number; onClosed: (fields: { open: number; max: number; closed: number }) => void; everyMs?: number }): () => void {
  const limit = openFileLimit();
  const max = opts.max ?? (limit === null ? null : Math.floor(limit * PRESSURE_SHARE));
  if (max === null || openFiles() === null) return () => {};
  const timer = setInterval(() => {
    const open = openFiles();
    if (open === null || open <= max) return;
    const closed = opts.closeIdle();
    if (closed > 0) opts.onClosed({ open, max, closed });
  }, opts.everyMs ?? 1000);
  timer.unref?.();
  return () => clearInterval(timer);
}
