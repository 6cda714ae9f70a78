// ancla serve applies its embedded migrations without drizzle (src/db/migrate.ts applyMigrations, so
// that a start listens before drizzle is loaded). What it writes must be what drizzle's own migrator
// writes from the migrations folder: the same schema and the same __drizzle_migrations rows, so a
// database stays readable and upgradable by either.
import { Database } from "bun:sqlite";
import { expect, setDefaultTimeout, test } from "bun:test";
import { drizzle } from "drizzle-orm/bun-sqlite";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrateDatabase } from "../../src/db/migrate";

setDefaultTimeout(30_000);

const FOLDER = join(import.meta.dir, "../../src/db/migrations");

const schemaOf = (db: Database) => db.query("select type, name, tbl_name, sql from sqlite_master where name not like 'sqlite_%' order by type, name").all();
const recorded = (db: Database) => db.query("select hash, created_at from __drizzle_migrations order by created_at").all();

test("a new database migrated without drizzle has drizzle's schema and migration rows; a second run applies nothing", () => {
  const ours = new Database(":memory:");
  const theirs = new Database(":memory:");
  const result = migrateDatabase(ours);
  migrate(drizzle(theirs), { migrationsFolder: FOLDER });
  expect(result.applied.length).toBeGreaterThan(10);
  expect(schemaOf(ours)).toEqual(schemaOf(theirs));
  expect(recorded(ours)).toEqual(recorded(theirs));
  expect(recorded(ours)).toHaveLength(result.applied.length);
  expect(migrateDatabase(ours)).toEqual({ applied: [] });
  // and drizzle's migrator finds nothing to do on ours
  migrate(drizzle(ours), { migrationsFolder: FOLDER });
  expect(recorded(ours)).toEqual(recorded(theirs));
});

test("a database drizzle migrated up to an older migration is brought up to date with the rest only", () => {
  const ours = new Database(":memory:");
  migrateDatabase(ours);
  // drizzle applies all but the last migration, from a copy of the folder whose journal ends before it
  const journal = JSON.parse(readFileSync(join(FOLDER, "meta/_journal.json"), "utf8")) as { entries: { tag: string }[] };
  const older = new Database(":memory:");
  const dir = mkdtempSync(join(tmpdir(), "ancla-migrate-"));
  try {
    cpSync(FOLDER, dir, { recursive: true });
    writeFileSync(join(dir, "meta/_journal.json"), JSON.stringify({ ...journal, entries: journal.entries.slice(0, -1) }));
    migrate(drizzle(older), { migrationsFolder: dir });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  expect(recorded(older)).toEqual(recorded(ours).slice(0, -1));
  expect(migrateDatabase(older).applied).toEqual([journal.entries.at(-1)!.tag]);
  expect(recorded(older)).toEqual(recorded(ours));
  expect(schemaOf(older)).toEqual(schemaOf(ours));
});
