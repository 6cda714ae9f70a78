// Opening the SQLite file with the PRAGMAs every connection needs, and the change key, without
// drizzle: `ancla serve` opens, checks and migrates its database and reads the log redaction set
// before it listens, and drizzle (its ~100 modules and the schema's table definitions) is loaded
// on the first use of deps.db instead (db/client.ts has the drizzle side).
import { Database } from "bun:sqlite";

/**
 * drizzle compiles a fresh SQLite statement on every call (~15 µs); bun:sqlite's query() keeps
 * compiled statements by SQL text. Statements run synchronously to completion, so sharing one
 * between callers is safe; nothing here finalizes them.
 */
function cacheStatements(sqlite: Database): Database {
  const prepare = sqlite.prepare.bind(sqlite);
  (sqlite as { prepare: unknown }).prepare = (sql: string, ...rest: unknown[]) =>
    rest.length === 0 ? sqlite.query(sql) : (prepare as (...a: unknown[]) => unknown)(sql, ...rest);
  return sqlite;
}

export function openSqlite(path: string): Database {
  const sqlite = cacheStatements(new Database(path, { create: true, strict: true }));
  sqlite.exec("PRAGMA journal_mode = WAL");
  sqlite.exec("PRAGMA foreign_keys = ON");
  sqlite.exec("PRAGMA busy_timeout = 5000");
  sqlite.exec("PRAGMA synchronous = NORMAL");
  return sqlite;
}

/**
 * A fingerprint of the database's contents that moves on every committed write: total_changes()
 * counts rows written through this connection (the server's only one), PRAGMA data_version moves
 * when another process (an `ancla admin …` command) commits. Two cheap reads, no table scans.
 */
export function changeKey(sqlite: Database): string {
  const t = sqlite.query("select total_changes() as n").get() as { n: number };
  const v = sqlite.query("pragma data_version").get() as { data_version: number };
  return `${v.data_version}:${t.n}`;
}
