// Applies the embedded migrations with drizzle's own migrator (same hashes as the folder migrator).
import { createHash } from "node:crypto";
import type { Db } from "./client";
import { migrationJournal, migrationSql } from "./migrations.gen";

type Entry = { tag: string; when: number; breakpoints: boolean };

export function runMigrations(db: Db): void {
  const entries = (migrationJournal as { entries: Entry[] }).entries;
  const migrations = entries.map((e, i) => {
    const query = migrationSql[i]!;
    return {
      sql: query.split("--> statement-breakpoint"),
      bps: e.breakpoints,
      folderMillis: e.when,
      hash: createHash("sha256").update(query).digest("hex"),
    };
  });
  // drizzle exposes no public API for pre-read migrations; dialect.migrate is what its migrator calls.
  const internal = db as unknown as { dialect: { migrate: (m: unknown, s: unknown, c: unknown) => void }; session: unknown };
  internal.dialect.migrate(migrations, internal.session, {});
}
