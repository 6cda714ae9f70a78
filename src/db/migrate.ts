// Applies the embedded migrations as drizzle's migrator does (same table, hashes and rule as its
// folder migrator, without loading drizzle: applyMigrations), and makes that safe to trust on an upgrade: a database written by a newer Ancla is refused
// (its schema is ahead of this code; running would corrupt it quietly), and before any pending
// migration touches an existing database an online copy of it is written next to it.
import { createHash } from "node:crypto";
import type { Database } from "bun:sqlite";
import { chmodSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { AppError } from "../errors";
import type { Db } from "./client";
import { migrationJournal, migrationSql } from "./migrations.gen";

type Entry = { idx: number; tag: string; when: number; breakpoints: boolean };

const entries = () => (migrationJournal as { entries: Entry[] }).entries;
/** Pre-migration copies kept next to the database (older ones are deleted). */
export const PRE_MIGRATION_KEEP = 3;

export class NewerDatabaseError extends AppError {
  constructor(message: string) {
    super(409, message, "conflict", 5);
  }
}

export type MigrationState = {
  /** migrations recorded in the database */
  applied: number;
  /** ours, not yet applied, in order */
  pending: Entry[];
  /** recorded migrations newer than every one this binary knows (written by a newer Ancla) */
  unknown: { hash: string; createdAt: number }[];
  /** the schema the database is at: the tag of its last migration we know, if any */
  schema: string | null;
};

const hasTable = (sqlite: Database, name: string) => sqlite.query("select 1 from sqlite_master where type = 'table' and name = ?").get(name) !== null;

export function migrationState(sqlite: Database): MigrationState {
  const known = entries();
  const rows = hasTable(sqlite, "__drizzle_migrations")
    ? (sqlite.query("select hash, created_at as createdAt from __drizzle_migrations order by created_at").all() as { hash: string; createdAt: number }[])
    : [];
  const latestKnown = Math.max(0, ...known.map((e) => e.when));
  const last = rows.length ? Number(rows[rows.length - 1]!.createdAt) : 0;
  const unknown = rows.filter((r) => Number(r.createdAt) > latestKnown);
  // drizzle's own rule: a migration is pending when it is newer than the last one recorded
  const pending = known.filter((e) => e.when > last);
  const reached = known.filter((e) => e.when <= last);
  return { applied: rows.length, pending, unknown, schema: reached.length ? reached[reached.length - 1]!.tag : null };
}

/** Throw when the database is ahead of this binary (a downgrade, or a newer server wrote it). */
export function assertKnownSchema(sqlite: Database, file = "the database"): MigrationState {
  const state = migrationState(sqlite);
  if (state.unknown.length) {
    const ours = entries().at(-1)!.tag;
    throw new NewerDatabaseError(
      `${file} was written by a newer version of Ancla: it has ${state.unknown.length} migration(s) this binary does not know (its newest is ${ours}). ` +
        `Run the newer ancla binary again (ancla.previous after an upgrade is the older one), or restore a backup taken before the upgrade (ancla.db.pre-*.bak, ancla restore). Nothing was changed.`,
    );
  }
  return state;
}

/**
 * Online copy of the open database (VACUUM INTO: consistent, safe while others read and write) to
 * `file`, created 0600 first so the copy is never readable by others.
 */
export function copyDatabase(sqlite: Database, file: string): void {
  // VACUUM INTO needs a missing or empty target; an empty 0600 file keeps the mode
  rmSync(file, { force: true });
  writeFileSync(file, "", { mode: 0o600 });
  sqlite.prepare("VACUUM INTO ?").run(file);
  chmodSync(file, 0o600);
}

/** ancla.db.pre-0006-20261201T101500Z.bak: the first migration it precedes, then when. */
function preMigrationName(dbFile: string, first: Entry, now: Date): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  return join(dirname(dbFile), `${basename(dbFile)}.pre-${first.tag.slice(0, 4)}-${stamp}.bak`);
}

export function pruneBackups(dir: string, prefix: string, suffix: string, keep: number): string[] {
  const files = readdirSync(dir)
    .filter((n) => n.startsWith(prefix) && n.endsWith(suffix))
    .map((n) => ({ path: join(dir, n), mtime: statSync(join(dir, n)).mtimeMs, n }))
    .sort((a, b) => b.mtime - a.mtime || b.n.localeCompare(a.n));
  const gone = files.slice(keep).map((f) => f.path);
  for (const f of gone) rmSync(f, { force: true });
  return gone;
}

export type MigrationResult = { applied: string[]; backup?: string };

/**
 * Refuse a newer database, copy an existing one aside when migrations are pending (`dbFile` given),
 * then apply them in one transaction.
 */
export function runMigrations(db: Db, opts: { dbFile?: string; now?: Date } = {}): MigrationResult {
  return migrateDatabase((db as unknown as { $client: Database }).$client, opts);
}

/** runMigrations on an open connection, without drizzle (`ancla serve` migrates before it loads drizzle). */
export function migrateDatabase(sqlite: Database, opts: { dbFile?: string; now?: Date } = {}): MigrationResult {
  const state = assertKnownSchema(sqlite, opts.dbFile);
  if (!state.pending.length) return { applied: [] };
  let backup: string | undefined;
  if (state.applied > 0 && opts.dbFile) {
    backup = preMigrationName(opts.dbFile, state.pending[0]!, opts.now ?? new Date());
    copyDatabase(sqlite, backup);
    pruneBackups(dirname(opts.dbFile), `${basename(opts.dbFile)}.pre-`, ".bak", PRE_MIGRATION_KEEP);
  }
  applyMigrations(sqlite, state.pending);
  return { applied: state.pending.map((e) => e.tag), backup };
}

/**
 * drizzle's SQLite migrator (SQLiteSyncDialect.migrate in drizzle-orm 0.45), statement for statement,
 * over the embedded migrations: the same table and hashes; `pending` are the ones its rule applies
 * (newer than the last recorded one: migrationState), all in one transaction. drizzle's own needs
 * drizzle and the schema loaded and is not public API for migrations held in memory;
 * test/unit/migrate.test.ts checks that a database migrated here and one migrated by drizzle's
 * folder migrator have the same rows and schema.
 */
function applyMigrations(sqlite: Database, pending: Entry[]): void {
  sqlite.run(`CREATE TABLE IF NOT EXISTS "__drizzle_migrations" (
				id SERIAL PRIMARY KEY,
				hash text NOT NULL,
				created_at numeric
			)`);
  const apply = new Set(pending);
  sqlite.run("BEGIN");
  try {
    entries().forEach((e, i) => {
      if (!apply.has(e)) return;
      const query = migrationSql[i]!;
      for (const stmt of query.split("--> statement-breakpoint")) sqlite.run(stmt);
      sqlite.run(`INSERT INTO "__drizzle_migrations" ("hash", "created_at") VALUES(?, ?)`, [createHash("sha256").update(query).digest("hex"), e.when]);
    });
    sqlite.run("COMMIT");
  } catch (e) {
    sqlite.run("ROLLBACK");
    throw e;
  }
}
