// The composition root: everything a module needs, built once from the config.
import { join } from "node:path";
import type { Database } from "bun:sqlite";
import type { ServeConfig } from "./config";
import type { Db } from "./db/client";
import { openSqlite } from "./db/sqlite";
import { assertKnownSchema, migrateDatabase, type MigrationResult } from "./db/migrate";
import { createLogger, type Logger } from "./lib/logger";
import { createDockerClient, type DockerClient } from "./targets/docker/client";
import { TargetUnavailable, type TargetEnv, type Targets } from "./targets/target";
import type { KubeTargetEnv } from "./targets/kubernetes";
import { isSealed } from "./lib/crypto";
import { sealPlaintextKubeconfigs } from "./db/seal-kubeconfigs";
import type { Secrets } from "./lib/crypto";
import { argon2idHasher, type PasswordHasher } from "./lib/passwords";
import { createServerRedactor, type ServerRedactor } from "./lib/redact";
import { DATABASE_FILE, ensurePrivateFile, secureDataDir } from "./lib/data-dir";
import { ensureCheckValue, loadMasterKey } from "./db/master-key";
import { serverRedactionValues } from "./db/redaction-values";

export type Clock = { now: () => Date };

export type Deps = {
  config: ServeConfig;
  db: Db;
  sqlite: Database;
  clock: Clock;
  logger: Logger;
  /** dockerode, created on first access (lazy: keeps start-up fast); images are built with it. */
  docker: DockerClient;
  /** Where releases run: targetFor(deps, env) picks an environment's; `local` is this host's Docker engine. */
  targets: Targets;
  /** AES-256-GCM seal/open under the verified master key. */
  secrets: Secrets;
  /** Hides every stored secret value; the server logger writes through it. Refreshed on config writes. */
  redactor: ServerRedactor;
  /** Password hashing: argon2id at its defaults; only a Deps built in code (the tests) passes another. */
  passwords: PasswordHasher;
  /** Aborted when the server starts to stop: long-lived responses (log follows) end on it. */
  shutdown: AbortController;
};

export const systemClock: Clock = { now: () => new Date() };
export const isoNow = (deps: { clock: Clock }): string => deps.clock.now().toISOString();

export function createDeps(config: ServeConfig, overrides: Partial<Deps> = {}): Deps {
  const tightened = secureDataDir(config.dataDir); // 0700 dir, 0600 files (see lib/data-dir)
  const dbFile = join(config.dataDir, DATABASE_FILE);
  ensurePrivateFile(dbFile); // before SQLite creates it 0644 (its -wal/-shm copy this mode)
  const sqlite = openSqlite(dbFile);
  // drizzle over it on first use (deps.db): `ancla serve` listens before drizzle and the schema's
  // table definitions are evaluated (~30 ms of CPU); everything before listen reads plain SQL
  let drizzled: Db | undefined;
  const db = (): Db => (drizzled ??= (require("./db/client") as typeof import("./db/client")).drizzleOf(sqlite));
  // verify the master key before any write: a wrong key must leave the data dir untouched
  let master: ReturnType<typeof loadMasterKey>;
  let migrated: MigrationResult;
  try {
    assertKnownSchema(sqlite, dbFile); // a database from a newer Ancla is refused before anything is written
    master = loadMasterKey(config.dataDir, config.masterKey, sqlite);
    // pending migrations on an existing database: an online copy next to it first (db/migrate.ts)
    migrated = migrateDatabase(sqlite, { dbFile });
  } catch (e) {
    sqlite.close();
    throw e;
  }
  ensureCheckValue(sqlite, master.secrets, systemClock.now().toISOString());
  sealPlaintextKubeconfigs(sqlite, master.secrets); // kubeconfigs stored before they were sealed
  // secrets given as settings (webhook secret, GitHub token) are hidden from the first log line on
  const settingSecrets = [config.githubWebhookSecret, config.githubToken, config.metricsToken].filter((v): v is string => !!v);
  const redactor = createServerRedactor(serverRedactionValues(sqlite, master.secrets), settingSecrets);
  const { docker, ...rest } = overrides;
  const deps = {
    config,
    sqlite,
    clock: systemClock,
    logger: createLogger((line) => process.stderr.write(line + "\n"), redactor.redact, { format: config.logFormat, level: config.logLevel }),
    secrets: master.secrets,
    redactor,
    shutdown: new AbortController(),
    passwords: argon2idHasher,
    ...rest,
  } as Deps;
  if (migrated.backup) deps.logger.info("database migrated; the copy taken before is kept next to it", { applied: migrated.applied, backup: migrated.backup });
  if (tightened.length) deps.logger.warn("tightened data dir permissions (only the owner may read it)", { changed: tightened });
  if (!("db" in overrides)) Object.defineProperty(deps, "db", { enumerable: true, get: db });
  let client: DockerClient | undefined = docker;
  Object.defineProperty(deps, "docker", { enumerable: true, get: () => (client ??= createDockerClient()) });
  deps.targets ??= createTargets(() => deps.docker, config, deps.secrets);
  return deps;
}

// The targets' code (the Docker target, the Kubernetes one with its YAML parser, image pushes) is
// required on first use, not imported: `ancla serve` listens before it is evaluated (bun build
// still bundles it).
const dockerModule = () => require("./targets/docker") as typeof import("./targets/docker");
const kubernetesModule = () => require("./targets/kubernetes") as typeof import("./targets/kubernetes");
const pushModule = () => require("./targets/docker/push") as typeof import("./targets/docker/push");

/** This server's targets: the local Docker engine, and a cluster per kubernetes environment (its kubeconfig opened here). */
function createTargets(docker: () => DockerClient, config: ServeConfig, secrets: Secrets): Targets {
  let local: Targets["local"] | undefined;
  const localTarget = () => (local ??= dockerModule().dockerTarget(docker, { labels: config.containerLabels }));
  const kubeOptions = {
    push: (ref: string, registry: KubeTargetEnv["registry"] & {}, name: { path: string; tag: string }, log: (line: string) => void, signal?: AbortSignal) =>
      pushModule().pushImage(docker(), ref, registry, name, log, signal),
    checkRegistry: (registry: KubeTargetEnv["registry"] & {}) => pushModule().checkRegistry(docker(), registry),
  };
  return {
    get local() {
      return localTarget();
    },
    forEnv: (env) => {
      if (env.target === localTarget().kind) return localTarget();
      if (env.target === "kubernetes") return kubernetesModule().kubernetesTarget(openKubeEnv(env, secrets, config.containerLabels), kubeOptions);
      throw new TargetUnavailable(env.target);
    },
  };
}

/** A kubernetes environment's settings with its sealed values opened (a value that does not open becomes empty: the target says so). */
function openKubeEnv(env: TargetEnv, secrets: Secrets, labels: Record<string, string> | undefined): KubeTargetEnv {
  const open = (v: string | null | undefined): string | null => {
    if (v === null || v === undefined) return null;
    if (!isSealed(v)) return v;
    try {
      return secrets.open(v);
    } catch {
      return "";
    }
  };
  return {
    kubeconfig: open(env.kubeconfig) ?? "",
    context: env.kubeContext ?? null,
    namespace: env.namespace ?? `ancla-${env.id}`,
    ingressClass: env.ingressClass ?? null,
    tlsSecretName: env.ingressTlsSecret ?? null,
    registry: env.registryUrl ? { url: env.registryUrl, username: env.registryUsername ?? null, password: open(env.registryPassword) } : null,
    labels,
  };
}

export function closeDeps(deps: Deps): void {
  deps.sqlite.close();
}
