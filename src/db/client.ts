// The database through drizzle: openDatabase (the connection, db/sqlite.ts, and drizzle over it) and drizzle helpers.
import type { Database } from "bun:sqlite";
import { changeKey, openSqlite } from "./sqlite";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { count, type SQL } from "drizzle-orm";
import type { SQLiteTable } from "drizzle-orm/sqlite-core";
import * as schema from "./schema";

export type Db = ReturnType<typeof drizzle<typeof schema>>;

export function openDatabase(path: string): { sqlite: Database; db: Db } {
  const sqlite = openSqlite(path);
  return { sqlite, db: drizzleOf(sqlite) };
}

/** drizzle over an open connection (with the schema, for relational queries). */
export const drizzleOf = (sqlite: Database): Db => drizzle(sqlite, { schema });

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
 * Memoizes a read per key until the database changes (see changeKey). For hot routes whose answer
 * is a pure function of the database; the cached value is shared, so callers must not mutate it.
 * Every entry belongs to the current change key: the first call after a write drops them all, so
 * the cache never holds stale values. Bounded by `maxEntries` and by `maxWeight` (the sum of
 * `weigh(value)`, e.g. JSON length): past either, it starts over.
 */
export function cachedUntilWrite<T>(
  compute: (key: string) => T,
  opts: { maxEntries?: number; maxWeight?: number; weigh?: (value: T) => number } | number = {},
): (sqlite: Database, key: string) => T {
  const { maxEntries = 1000, maxWeight = Infinity, weigh } = typeof opts === "number" ? { maxEntries: opts } : opts;
  const entries = new Map<string, T>();
  let version = "";
  let weight = 0;
  return (sqlite, key) => {
    const now = changeKey(sqlite);
    if (now !== version) {
      entries.clear();
      weight = 0;
      version = now;
    } else if (entries.has(key)) {
      return entries.get(key)!;
    }
    const value = compute(key);
    const w = weigh ? weigh(value) : 0;
    if (entries.size >= maxEntries || weight + w > maxWeight) {
      entries.clear();
      weight = 0;
    }
    entries.set(key, value);
    weight += w;
    return value;
  };
}

/**
 * Runs `fn` inside one read transaction. Outside a transaction each statement takes and releases
 * the database's read locks on its own (≈5 µs here, most of a simple indexed lookup); a request's
 * handful of reads pays that once and sees one snapshot. `fn` must be synchronous and must not
 * write (a write inside would upgrade the snapshot and could fail busy). Nested: runs inline.
 */
export function readTx<T>(sqlite: Database, fn: () => T): T {
  if (sqlite.inTransaction) return fn();
  sqlite.query("BEGIN").run();
  let ok = false;
  try {
    const value = fn();
    ok = true;
    return value;
  } finally {
    sqlite.query(ok ? "COMMIT" : "ROLLBACK").run();
  }
}

/**
 * A route's answer as JSON text, kept until the next write (cachedUntilWrite): checked against
 * the route's response schema and serialised once per fill, where Elysia would do both on every
 * request. The text is what Elysia would send: JSON of the schema's parsed output. Entries are
 * bounded to 8 MiB of text per cache.
 */
export function cachedJsonUntilWrite(schema: { parse: (value: unknown) => unknown }, compute: (key: string) => unknown): (sqlite: Database, key: string) => string {
  return cachedUntilWrite((key) => JSON.stringify(schema.parse(compute(key))), { maxWeight: 8 * 2 ** 20, weigh: (json) => json.length });
}

const jsonTexts = new WeakMap<Response, string>();

/** A ready JSON answer (Elysia passes a Response through as it is, adding its headers). */
export function jsonResponse(json: string): Response {
  const response = new Response(json, { headers: { "content-type": "application/json" } });
  jsonTexts.set(response, json);
  return response;
}

/** The text of a Response made by jsonResponse (its body unread), else undefined. */
export const jsonTextOf = (response: Response): string | undefined => jsonTexts.get(response);
