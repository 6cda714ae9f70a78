// Scheduled backups (--backup-every, --backup-keep, --backup-dir, --backup-include-key): a backup
// is due when the newest one in the directory is older than the interval (so a restart neither
// repeats nor skips one), checked on a timer; each run prunes to the newest `keep`. Time comes
// from deps.clock, so tests drive the schedule with an injected clock and tick().
import type { Deps } from "../../deps";
import { backupDirOf, listBackups, pruneBackupDir, writeBackup, type BackupInfo } from "./service";

export type BackupSchedule = {
  /** Write a backup if one is due; resolves with it (null when none was due or scheduling is off). */
  tick: () => Promise<BackupInfo | null>;
  stop: () => Promise<void>;
};

export type ScheduleState = { every_seconds: number | null; keep: number; dir: string; include_key: boolean; last_error: string | null; next_due_at: string | null };

const states = new WeakMap<object, { lastError: string | null }>();
// the check runs this often (or every tenth of the interval, when shorter): a due backup waits at most this long
const CHECK_MS = 60_000;

/** What the status route reports about scheduling. */
export function scheduleState(deps: Pick<Deps, "config" | "clock" | "db">): ScheduleState {
  const every = deps.config.backupEvery ?? null;
  const dir = backupDirOf(deps.config);
  const last = listBackups(dir)[0];
  const next = every === null ? null : last ? new Date(Math.max(new Date(last.created_at).getTime() + every, deps.clock.now().getTime())) : deps.clock.now();
  return {
    every_seconds: every === null ? null : every / 1000,
    keep: deps.config.backupKeep,
    dir,
    include_key: deps.config.backupIncludeKey,
    last_error: states.get(deps.db)?.lastError ?? null,
    next_due_at: next?.toISOString() ?? null,
  };
}

export function startBackupSchedule(deps: Deps, opts: { timer?: boolean } = {}): BackupSchedule {
  const every = deps.config.backupEvery;
  const dir = backupDirOf(deps.config);
  const state = { lastError: null as string | null };
  states.set(deps.db, state);
  let running: Promise<BackupInfo | null> | undefined;
  const due = () => {
    if (!every) return false;
    const last = listBackups(dir)[0];
    return !last || deps.clock.now().getTime() - new Date(last.created_at).getTime() >= every;
  };
  const run = async (): Promise<BackupInfo | null> => {
    if (!due()) return null;
    try {
      const b = await writeBackup(deps, { dir, includeKey: deps.config.backupIncludeKey });
      const pruned = pruneBackupDir(dir, deps.config.backupKeep);
      state.lastError = null;
      deps.logger.info("backup written", { file: b.file, bytes: b.bytes, pruned: pruned.length });
      return b;
    } catch (e) {
      state.lastError = (e as Error).message;
      deps.logger.error("scheduled backup failed", { dir, error: state.lastError });
      return null;
    }
  };
  // one run at a time: a slow backup (a big database) is never started twice
  const tick = () => (running ??= run().finally(() => (running = undefined)));
  const timer = every && opts.timer !== false ? setInterval(() => void tick(), Math.min(CHECK_MS, Math.max(1000, every / 10))) : undefined;
  if (timer) void tick();
  return {
    tick,
    async stop() {
      if (timer) clearInterval(timer);
      await running?.catch(() => undefined);
    },
  };
}
