// The data dir holds the database, master.key and the admin's first password: only its owner may
// read it. New files are created 0600 and directories 0700; an existing dir with looser modes is
// tightened on open and every change is reported so the caller can log it.
import { chmodSync, closeSync, existsSync, lstatSync, mkdirSync, openSync, readdirSync, readSync, statSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../errors";

export const DATABASE_FILE = "ancla.db";
const GROUP_OTHER = 0o077;

const octal = (mode: number) => (mode & 0o777).toString(8).padStart(4, "0");

/**
 * Create the dir (0700) or tighten it and its direct entries: group/other bits are removed.
 * Only the top level is touched: subdirectories become 0700, which already closes what is below
 * them, and files inside build checkouts keep their modes (they end up in images as they are).
 * Returns one "path (0644 → 0600)" line per change.
 */
export function secureDataDir(dir: string): string[] {
  if (!existsSync(dir)) {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    return [];
  }
  const changes: string[] = [];
  const tighten = (path: string, mode: number) => {
    if ((mode & GROUP_OTHER) === 0) return;
    const next = mode & 0o777 & ~GROUP_OTHER;
    chmodSync(path, next);
    changes.push(`${path} (${octal(mode)} → ${octal(next)})`);
  };
  tighten(dir, statSync(dir).mode);
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    const st = lstatSync(path);
    if (st.isFile() || st.isDirectory()) tighten(path, st.mode); // a symlink's own mode means nothing
  }
  return changes;
}

/**
 * Make sure `path` exists with mode 0600 before a library opens it: SQLite creates a database
 * with 0644 under the usual umask, and its -wal and -shm files copy the database file's mode.
 */
export function ensurePrivateFile(path: string): void {
  closeSync(openSync(path, "a", 0o600));
}

/**
 * For one-off admin commands: the data dir must already hold a database. They must never create
 * an empty one (a mistyped --data-dir would otherwise "succeed" against nothing).
 */
export function assertExistingDatabase(dir: string): void {
  const file = join(dir, DATABASE_FILE);
  const hint = "check --data-dir (or ANCLA_DATA_DIR); `ancla serve` creates the database on its first start";
  if (!existsSync(file)) throw new AppError(404, `no Ancla database at ${file}: ${hint}.`, "not_found", 4);
  const st = statSync(file);
  if (!st.isFile() || st.size === 0) throw new AppError(404, `${file} is empty, not an Ancla database: ${hint}.`, "not_found", 4);
  if (readFileHead(file, 16).toString("latin1") !== SQLITE_MAGIC) throw new AppError(2, `${file} is not an SQLite database: ${hint}.`, "usage", 2);
}

/** The first 16 bytes of every SQLite database file. */
export const SQLITE_MAGIC = "SQLite format 3\0";

/** The first `bytes` bytes of a file (fewer when it is shorter): enough to tell its format. */
export function readFileHead(file: string, bytes: number): Buffer {
  const head = Buffer.alloc(bytes);
  const fd = openSync(file, "r");
  try {
    const n = readSync(fd, head, 0, bytes, 0);
    return head.subarray(0, n);
  } finally {
    closeSync(fd);
  }
}
