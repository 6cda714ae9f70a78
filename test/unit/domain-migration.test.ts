// Migration 0005 on a database written before it: custom domains listed by two services go to the
// one created first (not to whichever the query returns first), and the next start drops the
// name from the other service's list with a warning.
import { afterEach, expect, test, setDefaultTimeout } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { migrate } from "drizzle-orm/bun-sqlite/migrator";
import { openDatabase } from "../../src/db/client";
import { runMigrations } from "../../src/db/migrate";
import { reconcileDomains } from "../../src/modules/services/domains";

setDefaultTimeout(120_000);

const MIGRATIONS = join(import.meta.dir, "../../src/db/migrations");
const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

/** A database migrated up to (not including) the migration tagged `stopAt`, with drizzle's folder migrator. */
function databaseBefore(stopAt: string) {
  const dir = mkdtempSync(join(tmpdir(), "ancla-mig-"));
  dirs.push(dir);
  const folder = join(dir, "migrations");
  mkdirSync(join(folder, "meta"), { recursive: true });
  const journal = JSON.parse(readFileSync(join(MIGRATIONS, "meta/_journal.json"), "utf8")) as { entries: { tag: string }[] };
  const stop = journal.entries.findIndex((e) => e.tag.startsWith(stopAt));
  expect(stop).toBeGreaterThan(0);
  journal.entries = journal.entries.slice(0, stop);
  for (const e of journal.entries) cpSync(join(MIGRATIONS, `${e.tag}.sql`), join(folder, `${e.tag}.sql`));
  writeFileSync(join(folder, "meta/_journal.json"), JSON.stringify(journal));
  const opened = openDatabase(join(dir, "ancla.db"));
  migrate(opened.db, { migrationsFolder: folder });
  return opened;
}

test("duplicate custom domains: the older service keeps the name, the newer loses it with a warning", () => {
  const { sqlite, db } = databaseBefore("0005_");
  sqlite.run("insert into organizations (id, name, slug, created_at, updated_at) values ('o', 'O', 'o', '2024-01-01', '2024-01-01')");
  sqlite.run("insert into projects (id, org_id, name, slug, created_at, updated_at) values ('p', 'o', 'P', 'p', '2024-01-01', '2024-01-01')");
  sqlite.run("insert into environments (id, project_id, name, slug, env_type, created_at, updated_at) values ('e', 'p', 'production', 'production', 'production', '2024-01-01', '2024-01-01')");
  const service = (id: string, slug: string, created: string, domains: string[]) =>
    sqlite.run(
      "insert into services (id, env_id, project_id, name, slug, process_counts, process_pod_classes, domains, created_at, updated_at) values (?, 'e', 'p', ?, ?, '{}', '{}', ?, ?, ?)",
      [id, slug, slug, JSON.stringify(domains), created, created],
    );
  // the newer service is inserted first, so table order alone would hand it the name
  service("newer", "newer", "2024-06-01T00:00:00Z", ["shop.example.com", "only-newer.example.com"]);
  service("older", "older", "2024-01-01T00:00:00Z", ["shop.example.com"]);

  runMigrations(db);
  const owners = sqlite.query("select hostname, service_id as owner from service_domains order by hostname").all();
  expect(owners).toEqual([
    { hostname: "only-newer.example.com", owner: "newer" },
    { hostname: "shop.example.com", owner: "older" },
  ]);
  expect(sqlite.query("select upstream_timeout as t from services where id = 'older'").get()).toEqual({ t: 60 });

  const warnings: unknown[] = [];
  const logger = { debug() {}, info() {}, error() {}, warn: (msg: string, fields?: Record<string, unknown>) => void warnings.push({ msg, ...fields }) };
  expect(reconcileDomains({ db, logger })).toBe(1);
  expect(warnings).toEqual([{ msg: "custom domain dropped: another service owns it", domain: "shop.example.com", service: "newer", owner: "older" }]);
  const lists = sqlite.query("select id, domains from services order by id").all();
  expect(lists).toEqual([
    { id: "newer", domains: '["only-newer.example.com"]' },
    { id: "older", domains: '["shop.example.com"]' },
  ]);
  // settled: the next start finds nothing to do
  expect(reconcileDomains({ db, logger })).toBe(0);
  sqlite.close();
});
