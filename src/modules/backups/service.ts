// Backups: write one (online, consistent, while serving), list and prune a directory of them, and
// restore one into an empty data dir. The master key never goes into a backup unless asked; its
// fingerprint always does, so the key given at restore time can be checked against it.
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync, copyFileSync, chmodSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { Database } from "bun:sqlite";
import type { Deps } from "../../deps";
import { AppError } from "../../errors";
import { masterKeyPath, parseMasterKey, readKeyFile, writeKeyFile } from "../../lib/crypto";
import { DATABASE_FILE } from "../../lib/data-dir";
import { VERSION } from "../../lib/version";
import { assertKnownSchema, copyDatabase, migrationState } from "../../db/migrate";
import { BACKUP_FORMAT, BACKUP_FORMAT_VERSION, backupKind, fingerprintOf, packBackup, sha256File, unpackBackup, type BackupManifest } from "./archive";

const PREFIX = "ancla-backup-";
const SUFFIX = ".tar.gz";

export type BackupInfo = { file: string; created_at: string; bytes: number };

/** The key the server runs with: --master-key / ANCLA_MASTER_KEY, else <data-dir>/master.key. */
export function serverMasterKey(config: Deps["config"]): Uint8Array | null {
  return (config.masterKey ? parseMasterKey(config.masterKey) : null) ?? (existsSync(masterKeyPath(config.dataDir)) ? readKeyFile(masterKeyPath(config.dataDir)) : null);
}

export const backupDirOf = (config: Deps["config"]): string => config.backupDir ?? join(config.dataDir, "backups");

/** 2026-12-01T10:15:00.123Z → 20261201T101500Z (sortable, no colons for any filesystem). */
const stamp = (d: Date) => d.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
const unstamp = (s: string): Date | null => {
  const m = /^(\d{4})(\d{2})(\d{2})T(\d{2})(\d{2})(\d{2})Z/.exec(s);
  return m ? new Date(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}Z`) : null;
};

/**
 * Write a backup archive to `file` (or, given a directory, to a new timestamped file in it).
 * The database copy is VACUUM INTO: one consistent snapshot, while the server keeps writing.
 */
export async function writeBackup(deps: Pick<Deps, "config" | "sqlite" | "clock">, opts: { dir?: string; file?: string; includeKey?: boolean } = {}): Promise<BackupInfo & { manifest: BackupManifest }> {
  const now = deps.clock.now();
  const dir = opts.file ? dirname(opts.file) : (opts.dir ?? backupDirOf(deps.config));
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const file = opts.file ?? join(dir, `${PREFIX}${stamp(now)}${SUFFIX}`);
  if (existsSync(file)) throw new AppError(409, `${file} already exists; choose a new file`, "conflict", 5);
  const key = serverMasterKey(deps.config);
  if (!key) throw new AppError(500, "the server's master key could not be read; no backup written", "master_key", 1);
  // staged in a private directory beside the target, renamed into place only when complete
  const work = join(dir, `.${basename(file)}.tmp`);
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { mode: 0o700 });
  try {
    const db = join(work, DATABASE_FILE);
    copyDatabase(deps.sqlite, db);
    const state = migrationState(deps.sqlite);
    const manifest: BackupManifest = {
      format: BACKUP_FORMAT,
      format_version: BACKUP_FORMAT_VERSION,
      ancla_version: VERSION,
      created_at: now.toISOString(),
      schema: state.schema,
      migrations: state.applied,
      database: { bytes: statSync(db).size, sha256: await sha256File(db) },
      master_key: { fingerprint: fingerprintOf(key), included: Boolean(opts.includeKey) },
    };
    writeFileSync(join(work, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n", { mode: 0o600 });
    if (opts.includeKey) writeKeyFile(join(work, "master.key"), key);
    const partial = join(work, "archive");
    const bytes = await packBackup(work, opts.includeKey ? ["manifest.json", "ancla.db", "master.key"] : ["manifest.json", "ancla.db"], partial);
    renameSync(partial, file);
    chmodSync(file, 0o600);
    return { file, created_at: manifest.created_at, bytes, manifest };
  } finally {
    rmSync(work, { recursive: true, force: true });
  }
}

/** Timestamped backups in `dir`, newest first (files written by `ancla backup <file>` elsewhere are not listed). */
export function listBackups(dir: string): BackupInfo[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir)
    .filter((n) => n.startsWith(PREFIX) && n.endsWith(SUFFIX))
    .map((n) => ({ n, at: unstamp(n.slice(PREFIX.length)) }))
    .filter((x): x is { n: string; at: Date } => x.at !== null)
    .sort((a, b) => b.at.getTime() - a.at.getTime())
    .map(({ n, at }) => ({ file: join(dir, n), created_at: at.toISOString(), bytes: statSync(join(dir, n)).size }));
}

/** Keep the newest `keep`; returns the deleted files. */
export function pruneBackupDir(dir: string, keep: number): string[] {
  const gone = listBackups(dir).slice(keep).map((b) => b.file);
  for (const f of gone) rmSync(f, { force: true });
  return gone;
}

export type RestoreResult = {
  data_dir: string;
  created_at: string | null;
  schema: string | null;
  ancla_version: string | null;
  master_key: "included" | "copied" | "missing";
  fingerprint: string | null;
};

/**
 * Restore `file` into `dataDir`, which must be empty or absent. The key comes from the backup
 * (when it was included) or from `masterKeyFile`, checked against the manifest's fingerprint.
 */
export async function restoreBackup(file: string, dataDir: string, opts: { masterKeyFile?: string } = {}): Promise<RestoreResult> {
  if (!existsSync(file)) throw new AppError(404, `no backup at ${file}`, "not_found", 4);
  if (existsSync(dataDir) && readdirSync(dataDir).length > 0) {
    throw new AppError(409, `${dataDir} is not empty; restore into a new or empty data dir (nothing was changed)`, "conflict", 5);
  }
  const given = opts.masterKeyFile ? readKeyFile(opts.masterKeyFile) : null;
  if (opts.masterKeyFile && !given) throw new AppError(2, `${opts.masterKeyFile} is not a master key (32 bytes, hex or base64)`, "usage", 2);
  const kind = backupKind(file);
  // unpacked beside the target first: a bad archive leaves no half-restored data dir behind
  mkdirSync(dirname(dataDir), { recursive: true });
  const stage = join(dirname(dataDir), `.${basename(dataDir)}.restore-${process.pid}`);
  rmSync(stage, { recursive: true, force: true });
  try {
    let manifest: BackupManifest | null = null;
    if (kind === "archive") manifest = await unpackBackup(file, stage);
    else {
      mkdirSync(stage, { recursive: true, mode: 0o700 });
      copyFileSync(file, join(stage, DATABASE_FILE));
      chmodSync(join(stage, DATABASE_FILE), 0o600);
    }
    const db = join(stage, DATABASE_FILE);
    if (manifest && (await sha256File(db)) !== manifest.database.sha256) throw new AppError(2, `${file}: the database inside does not match its checksum; the backup is damaged`, "usage", 2);
    checkDatabase(db);
    let keyState: RestoreResult["master_key"] = "missing";
    if (manifest?.master_key.included) keyState = "included";
    else if (given) {
      if (manifest && fingerprintOf(given) !== manifest.master_key.fingerprint) {
        throw new AppError(2, `${opts.masterKeyFile} is not the key this backup was made with (fingerprint ${manifest.master_key.fingerprint})`, "usage", 2);
      }
      writeKeyFile(masterKeyPath(stage), given);
      keyState = "copied";
    }
    rmSync(join(stage, "manifest.json"), { force: true });
    if (existsSync(dataDir)) rmSync(dataDir, { recursive: true }); // empty, checked above
    renameSync(stage, dataDir);
    chmodSync(dataDir, 0o700);
    return {
      data_dir: dataDir,
      created_at: manifest?.created_at ?? null,
      schema: manifest?.schema ?? null,
      ancla_version: manifest?.ancla_version ?? null,
      master_key: keyState,
      fingerprint: manifest?.master_key.fingerprint ?? null,
    };
  } finally {
    rmSync(stage, { recursive: true, force: true });
  }
}

/** A restorable database: intact, and not from a newer Ancla than this binary. */
function checkDatabase(file: string): void {
  const sqlite = new Database(file, { readonly: true });
  try {
    const ok = sqlite.query("pragma integrity_check").get() as { integrity_check: string };
    if (ok.integrity_check !== "ok") throw new AppError(2, `the backup's database fails SQLite's integrity check: ${ok.integrity_check}`, "usage", 2);
    assertKnownSchema(sqlite, "the backup's database");
  } finally {
    sqlite.close();
  }
}
