// Opens the SQLite database with the PRAGMAs every connection needs.
import { Database } from "bun:sqlite";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { count, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import * as schema from "./schema";

export type Db = ReturnType<typeof drizzle<typeof schema>>;

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

export function openDatabase(path: string): { sqlite: Database; db: Db } {
  const sqlite = cacheStatements(new Database(path, { create: true, strict: true }));
  sqlite.exec("PRAGMA journal_mode = WAL");
  sqlite.exec("PRAGMA foreign_keys = ON");
  sqlite.exec("PRAGMA busy_timeout = 5000");
  sqlite.exec("PRAGMA synchronous = NORMAL");
  return { sqlite, db: drizzle(sqlite, { schema }) };
}

/** Synchronous row count (drizzle's $count is async-only). */
export function countRows(db: Db, table: SQLiteTable, where?: SQL): number {
  return db.select({ n: count() }).from(table).where(where).get()?.n ?? 0;
}

/**
 * A query built and prepared once per database instead of on every call: drizzle's query
 * building costs ~30–40 µs per call, a prepared statement ~1–2 µs. Use for per-request lookups
 * with `sql.placeholder(...)` parameters, e.g. `const q = preparedPerDb((db) => db.select()….prepare())`.
 */
export function preparedPerDb<Q>(build: (db: Db) => Q): (db: Db) => Q {
  const cache = new WeakMap<Db, Q>();
  return (db) => {
    let q = cache.get(db);
    if (!q) cache.set(db, (q = build(db)));
    return q;
  };
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

/**
 * Memoizes a read per key until the database changes (see changeKey). For hot list routes whose
 * answer is a pure function of the database; the cached value is shared, so callers must not
 * mutate it.
 */
export function cachedUntilWrite<T>(compute: (key: string) => T, maxEntries = 1000): (sqlite: Database, key: string) => T {
  const entries = new Map<string, { version: string; value: T }>();
  return (sqlite, key) => {
    const version = changeKey(sqlite);
    const hit = entries.get(key);
    if (hit && hit.version === version) return hit.value;
    if (entries.size >= maxEntries) entries.clear();
    const value = compute(key);
    entries.set(key, { version, value });
    return value;
  };
}
