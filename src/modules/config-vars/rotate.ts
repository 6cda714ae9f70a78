// `ancla admin rotate-master-key`: re-seal every sealed value under a fresh key in one transaction.
// Sealed values are self-describing tokens, so every text column of every table is scanned and
// each token inside it (a config variable, or a secret inside a release's JSON snapshot) is
// re-sealed; nothing needs to register where it keeps secrets.
import { existsSync, readFileSync, renameSync } from "node:fs";
import { join } from "node:path";
import type { Deps } from "../../deps";
import { AppError } from "../../errors";
import { createSecrets, masterKeyPath, newMasterKey, SEALED_TOKEN_RE, writeKeyFile } from "../../lib/crypto";

export type RotationResult = { resealed: number; unreadable: number; keyFile: string; previousKeyFile: string };

export const PID_FILE = "serve.pid";

/** A live `ancla serve` on this data dir would keep sealing with the old key: refuse. */
function assertServerStopped(dataDir: string): void {
  const file = join(dataDir, PID_FILE);
  if (!existsSync(file)) return;
  const pid = Number(readFileSync(file, "utf8").trim());
  if (!Number.isInteger(pid) || pid <= 0 || pid === process.pid) return;
  try {
    process.kill(pid, 0);
  } catch {
    return; // stale pid file from a crashed server
  }
  throw new AppError(409, `ancla serve is running on this data dir (pid ${pid}); stop it before rotating the master key.`, "conflict", 5);
}

const quoteId = (s: string) => `"${s.replace(/"/g, '""')}"`;

export function rotateMasterKey(deps: Deps): RotationResult {
  if (deps.config.masterKey) {
    throw new AppError(2, "The master key comes from ANCLA_MASTER_KEY (--master-key), which this command cannot rewrite. Unset it to rotate the key file, or re-encrypt by hand.", "usage", 2);
  }
  assertServerStopped(deps.config.dataDir);
  const file = masterKeyPath(deps.config.dataDir);
  const pending = `${file}.new`;
  const previous = `${file}.${deps.clock.now().getTime()}.old`;
  const next = createSecrets((() => {
    const key = newMasterKey();
    // durable before the commit: a crash after it still finds the key (promoted on the next start)
    writeKeyFile(pending, key);
    return key;
  })());
  let resealed = 0;
  let unreadable = 0;
  const reseal = (text: string) =>
    text.replace(SEALED_TOKEN_RE, (token) => {
      let plain: string;
      try {
        plain = deps.secrets.open(token);
      } catch {
        unreadable++;
        return token;
      }
      resealed++;
      return next.seal(plain);
    });
  const sqlite = deps.sqlite;
  sqlite.transaction(() => {
    const tables = sqlite.query("select name, sql from sqlite_master where type = 'table' and name not like 'sqlite_%'").all() as { name: string; sql: string | null }[];
    for (const { name: table, sql } of tables) {
      const columns = sqlite.query(`select name, type, pk from pragma_table_info(?)`).all(table) as { name: string; type: string; pk: number }[];
      // WITHOUT ROWID tables (e.g. usage samples) have no rowid: their primary key names a row
      const key = /without\s+rowid/i.test(sql ?? "") ? columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name) : ["rowid"];
      const keySelect = key.map((k, i) => `${k === "rowid" ? "rowid" : quoteId(k)} as k${i}`).join(", ");
      const keyWhere = key.map((k) => `${k === "rowid" ? "rowid" : quoteId(k)} = ?`).join(" and ");
      for (const { name: column, type } of columns) {
        if (/INT|REAL|FLOA|DOUB/i.test(type)) continue; // numeric affinity never holds a sealed token
        const rows = sqlite
          .query(`select ${keySelect}, ${quoteId(column)} as v from ${quoteId(table)} where typeof(${quoteId(column)}) = 'text' and ${quoteId(column)} like '%enc:v1:%'`)
          .all() as Record<string, string | number>[];
        if (!rows.length) continue;
        const update = sqlite.query(`update ${quoteId(table)} set ${quoteId(column)} = ? where ${keyWhere}`);
        for (const row of rows) {
          const v = reseal(String(row.v));
          if (v !== row.v) update.run(v, ...key.map((_, i) => row[`k${i}`]!));
        }
      }
    }
  })();
  // the old key stays next to the new one: backups taken before the rotation need it
  if (existsSync(file)) renameSync(file, previous);
  renameSync(pending, file);
  return { resealed, unreadable, keyFile: file, previousKeyFile: previous };
}
