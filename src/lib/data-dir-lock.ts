// One `ancla serve` per data dir. The lock is SQLite's own exclusive file lock (POSIX fcntl) on
// <data-dir>/serve.lock, held by an open transaction for the life of the server: the kernel drops it
// when the process exits however it exits, so there is no stale lock to detect, and it works the
// same from source and in the compiled binary (bun:sqlite is built in). The holder's pid is kept
// in serve.pid (written only once the lock is held), for the message and for rotate-master-key.
// serve.lock itself stays when the server stops: deleting it on release would let a process that
// opened it just before the delete lock an orphaned file while a third creates and locks a new one.
import { Database } from "bun:sqlite";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../errors";
import { ensurePrivateFile } from "./data-dir";

export const LOCK_FILE = "serve.lock";

export type DataDirLock = { release: () => void };

function holderPid(pidFile: string): number | null {
  try {
    const pid = Number(readFileSync(pidFile, "utf8").trim());
    return Number.isInteger(pid) && pid > 0 ? pid : null;
  } catch {
    return null;
  }
}

/** Take the data dir or throw "data dir … in use by pid N" (exit 5). Writes `pidFile` once held. */
export function lockDataDir(dataDir: string, pidFile: string): DataDirLock {
  const file = join(dataDir, LOCK_FILE);
  ensurePrivateFile(file);
  const db = new Database(file);
  try {
    db.exec("PRAGMA busy_timeout = 0"); // fail at once: a second server must not wait for the first
    db.exec("PRAGMA locking_mode = EXCLUSIVE");
    db.exec("BEGIN EXCLUSIVE"); // never committed: the lock lasts until close or exit
  } catch (e) {
    db.close();
    if ((e as { code?: string }).code !== "SQLITE_BUSY") throw e;
    const pid = holderPid(pidFile);
    throw new AppError(409, `data dir ${dataDir} in use by ${pid ? `pid ${pid}` : "another process"} (another ancla serve); stop it first or choose another --data-dir.`, "conflict", 5);
  }
  // the lock is ours: whatever serve.pid says now is stale (a crashed server)
  writeFileSync(pidFile, String(process.pid), { mode: 0o600 });
  let released = false;
  return {
    release() {
      if (released) return;
      released = true;
      if (existsSync(pidFile) && holderPid(pidFile) === process.pid) rmSync(pidFile, { force: true });
      db.close();
    },
  };
}
