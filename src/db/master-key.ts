// Startup: find the master key and prove it opens the secrets already stored, before anything is
// written. A wrong or missing key refuses to start; it never replaces the key or touches a secret.
import type { Database } from "bun:sqlite";
import { existsSync, renameSync } from "node:fs";
import { AppError } from "../errors";
import { createSecrets, masterKeyPath, newMasterKey, parseMasterKey, readKeyFile, writeKeyFile, SealError, type Secrets } from "../lib/crypto";

export const CHECK_SETTING = "master_key_check";
export const CHECK_PLAINTEXT = "ancla master key check v1";

export class MasterKeyError extends AppError {
  constructor(message: string) {
    super(500, message, "master_key", 1);
  }
}

export type MasterKey = { key: Uint8Array; secrets: Secrets; source: "env" | "file" };

const hasTable = (sqlite: Database, name: string) =>
  sqlite.query("select 1 from sqlite_master where type = 'table' and name = ?").get(name) !== null;

/** Something sealed under the current key that any candidate key must open. */
function storedProbe(sqlite: Database): { kind: "check" | "secret"; sealed: string } | null {
  if (hasTable(sqlite, "settings")) {
    const row = sqlite.query("select value from settings where key = ?").get(CHECK_SETTING) as { value: string } | null;
    if (row) return { kind: "check", sealed: row.value };
  }
  if (hasTable(sqlite, "config_vars")) {
    const row = sqlite.query("select value from config_vars where secret = 1 limit 1").get() as { value: string } | null;
    if (row) return { kind: "secret", sealed: row.value };
  }
  return null;
}

const opens = (key: Uint8Array, sealed: string): boolean => {
  try {
    createSecrets(key).open(sealed);
    return true;
  } catch (e) {
    if (e instanceof SealError) return false;
    throw e;
  }
};

/**
 * Load and verify the key. Reads only; creates master.key solely on an install that has never
 * stored a secret. A rotation interrupted after its commit leaves master.key.new behind: when
 * that key (and not master.key) opens the data, it is promoted.
 */
export function loadMasterKey(dataDir: string, configured: string | undefined, sqlite: Database): MasterKey {
  const probe = storedProbe(sqlite);
  const file = masterKeyPath(dataDir);
  let key: Uint8Array;
  let source: "env" | "file";
  if (configured !== undefined && configured !== "") {
    const parsed = parseMasterKey(configured);
    if (!parsed) throw new MasterKeyError("ANCLA_MASTER_KEY (--master-key) must be 32 bytes written as 64 hex digits or base64.");
    key = parsed;
    source = "env";
  } else if (existsSync(file)) {
    const parsed = readKeyFile(file);
    if (!parsed) throw new MasterKeyError(`${file} is not a valid master key (expected 32 bytes). Restore the original file; nothing was changed.`);
    key = parsed;
    source = "file";
  } else {
    if (probe) {
      throw new MasterKeyError(
        `${file} is missing but the database holds encrypted secrets. Restore master.key from your backup or set ANCLA_MASTER_KEY; nothing was changed.`,
      );
    }
    key = newMasterKey();
    writeKeyFile(file, key);
    source = "file";
  }
  if (probe && !opens(key, probe.sealed)) {
    const pending = `${file}.new`;
    const recovered = source === "file" && existsSync(pending) ? readKeyFile(pending) : null;
    if (recovered && opens(recovered, probe.sealed)) {
      renameSync(pending, file);
      key = recovered;
    } else {
      const where = source === "env" ? "ANCLA_MASTER_KEY" : file;
      throw new MasterKeyError(
        `The master key from ${where} does not decrypt the secrets stored in this data dir. Start with the key they were encrypted with; nothing was changed.`,
      );
    }
  }
  return { key, secrets: createSecrets(key), source };
}

/** After migrations: remember a value sealed under this key so the next start can verify it. */
export function ensureCheckValue(sqlite: Database, secrets: Secrets, now: string): void {
  const row = sqlite.query("select 1 from settings where key = ?").get(CHECK_SETTING);
  if (!row) sqlite.query("insert into settings (key, value, updated_at) values (?, ?, ?)").run(CHECK_SETTING, secrets.seal(CHECK_PLAINTEXT), now);
}
