// The composition root: everything a module needs, built once from the config.
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import type { Database } from "bun:sqlite";
import type { ServeConfig } from "./config";
import { openDatabase, type Db } from "./db/client";
import { runMigrations } from "./db/migrate";
import { createLogger, type Logger } from "./lib/logger";

export type Clock = { now: () => Date };

export type Deps = {
  config: ServeConfig;
  db: Db;
  sqlite: Database;
  clock: Clock;
  logger: Logger;
};

export const systemClock: Clock = { now: () => new Date() };
export const isoNow = (deps: { clock: Clock }): string => deps.clock.now().toISOString();

export function createDeps(config: ServeConfig, overrides: Partial<Deps> = {}): Deps {
  mkdirSync(config.dataDir, { recursive: true, mode: 0o700 });
  const { sqlite, db } = openDatabase(join(config.dataDir, "ancla.db"));
  runMigrations(db);
  return {
    config,
    db,
    sqlite,
    clock: systemClock,
    logger: createLogger((line) => process.stderr.write(line + "\n")),
    ...overrides,
  };
}

export function closeDeps(deps: Deps): void {
  deps.sqlite.close();
}
