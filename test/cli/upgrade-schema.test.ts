// Migrations you can trust: a database written by the first released schema (fixture: migration
// 0000 with data, test/fixtures/db) is upgraded by a live `ancla serve` after an online copy is
// taken (0600, last 3 kept); its data, keys and secrets still work through the API. A database
// from a newer Ancla is refused with a clear message and left untouched.
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { Database } from "bun:sqlite";
import { copyFileSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ancla, startLiveServer } from "../support/server";
import { migrationJournal } from "../../src/db/migrations.gen";

// two server starts and CLI runs; a busy shared machine needs more than bun's 5 s
setDefaultTimeout(300_000);

const FIXTURE = join(import.meta.dir, "../fixtures/db");
const API_KEY = readFileSync(join(FIXTURE, "api-key.txt"), "utf8").trim();
const latest = (migrationJournal as { entries: { tag: string }[] }).entries.at(-1)!.tag;
const dataDir = mkdtempSync(join(tmpdir(), "ancla-upgrade-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

/** The data dir an Ancla of the first release left behind: its database and master.key. */
function oldDataDir(): void {
  const db = new Database(join(dataDir, "ancla.db"));
  db.exec(readFileSync(join(FIXTURE, "schema-0000.sql"), "utf8"));
  db.close();
  copyFileSync(join(FIXTURE, "master.key"), join(dataDir, "master.key"));
  // four copies from earlier upgrades: with the new one only the newest three stay
  for (let i = 1; i <= 4; i++) {
    const f = join(dataDir, `ancla.db.pre-0000-2020010${i}T000000Z.bak`);
    writeFileSync(f, "old copy", { mode: 0o600 });
    utimesSync(f, new Date(2020, 0, i), new Date(2020, 0, i));
  }
}

const api = async (url: string, path: string) => {
  const res = await fetch(url + path, { headers: { "x-api-key": API_KEY } });
  return { status: res.status, body: (await res.json()) as any };
};

test("a first-release database: copied aside, migrated by ancla serve, and everything in it still works", async () => {
  oldDataDir();
  const s = await startLiveServer({ dataDir, createKey: false });
  try {
    const pre = readdirSync(dataDir).filter((n) => n.startsWith("ancla.db.pre-")).sort();
    expect(pre).toHaveLength(3);
    const fresh = pre.find((n) => n.startsWith("ancla.db.pre-0001-"))!;
    expect(fresh).toMatch(/^ancla\.db\.pre-0001-\d{8}T\d{6}Z\.bak$/);
    expect(statSync(join(dataDir, fresh)).mode & 0o777).toBe(0o600);
    expect(pre).not.toContain("ancla.db.pre-0000-20200101T000000Z.bak"); // the oldest was pruned
    // the copy is the database as it was: one migration, the old data
    const copy = new Database(join(dataDir, fresh), { readonly: true });
    expect(copy.query("select count(*) as n from __drizzle_migrations").get()).toEqual({ n: 1 });
    expect(copy.query("select slug from organizations").all()).toEqual([{ slug: "old-co" }]);
    copy.close();
    expect(s.output()).toContain("database migrated; the copy taken before is kept next to it");

    // the old API key, user, resources and secret work on the new schema
    const orgs = await api(s.url, "/api/v1/organizations");
    expect(orgs.status).toBe(200);
    expect(orgs.body.map((o: { slug: string }) => o.slug)).toEqual(["old-co"]);
    const svc = await api(s.url, "/api/v1/orgs/old-co/projects/shop/envs/production/services/web");
    expect(svc.status).toBe(200);
    expect(svc.body).toMatchObject({ slug: "web", port: 9000 });
    const config = await api(s.url, "/api/v1/orgs/old-co/projects/shop/envs/production/services/web/config/resolved");
    expect(config.status).toBe(200);
    const byName = Object.fromEntries(config.body.map((v: { name: string; value: string }) => [v.name, v.value]));
    expect(byName).toEqual({ API_TOKEN: "**secret**", GREETING: "hello from 0000" });
    const status = await api(s.url, "/api/v1/status");
    expect(status.status).toBe(200);
    expect(status.body.database).toMatchObject({ schema: latest, migrations: (migrationJournal as { entries: unknown[] }).entries.length });
  } finally {
    expect(await s.stop({ keep: true })).toBe(0);
  }
});

test("a database from a newer Ancla: serve and migrate refuse it with a clear message and change nothing", async () => {
  const db = new Database(join(dataDir, "ancla.db"));
  db.query("insert into __drizzle_migrations (hash, created_at) values ('from-the-future', ?)").run(Date.now() + 365 * 86_400_000);
  db.close();
  const before = readFileSync(join(dataDir, "ancla.db"));
  const files = readdirSync(dataDir).sort();
  for (const args of [["serve", "--listen", "127.0.0.1:0", "--router", "127.0.0.1:0"], ["migrate"]]) {
    const r = await ancla([...args, "--data-dir", dataDir]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("was written by a newer version of Ancla: it has 1 migration(s) this binary does not know");
    expect(r.stderr).toContain(`its newest is ${latest}`);
    expect(r.stderr).toContain("Nothing was changed.");
    expect(r.stdout).not.toContain("ancla listening");
  }
  expect(readFileSync(join(dataDir, "ancla.db")).equals(before)).toBe(true);
  expect(readdirSync(dataDir).sort()).toEqual(files);
});
