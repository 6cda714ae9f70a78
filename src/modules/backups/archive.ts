// The backup file: one gzip'd tar holding manifest.json, ancla.db (an online VACUUM INTO copy) and,
// only when asked, master.key. The manifest records the master key's fingerprint so a restore can
// check the key it is given without the key ever being in the file.
import { createReadStream, createWriteStream, mkdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGunzip, createGzip } from "node:zlib";
import { createHash } from "node:crypto";
import * as tar from "tar-stream";
import { AppError } from "../../errors";
import { readFileHead, SQLITE_MAGIC } from "../../lib/data-dir";

export const BACKUP_FORMAT = "ancla-backup";
export const BACKUP_FORMAT_VERSION = 1;
/** The only names a backup may contain; anything else in an archive is refused. */
export const MEMBERS = ["manifest.json", "ancla.db", "master.key"] as const;
type Member = (typeof MEMBERS)[number];

export type BackupManifest = {
  format: typeof BACKUP_FORMAT;
  format_version: number;
  ancla_version: string;
  created_at: string;
  /** the last migration the database had (its schema) and how many it had */
  schema: string | null;
  migrations: number;
  database: { bytes: number; sha256: string };
  master_key: { fingerprint: string; included: boolean };
};

export const fingerprintOf = (key: Uint8Array): string => "sha256:" + createHash("sha256").update(key).digest("hex");

export async function sha256File(file: string): Promise<string> {
  const hash = createHash("sha256");
  await pipeline(createReadStream(file), hash);
  return hash.digest("hex");
}

/** Pack `dir`'s members (manifest.json, ancla.db, master.key when present) into `out` (0600). */
export async function packBackup(dir: string, members: Member[], out: string): Promise<number> {
  const pack = tar.pack();
  const writing = pipeline(pack, createGzip({ level: 6 }), createWriteStream(out, { mode: 0o600 }));
  for (const name of members) {
    const path = join(dir, name);
    const size = statSync(path).size;
    await new Promise<void>((resolve, reject) => {
      const entry = pack.entry({ name, size, mode: 0o600, mtime: new Date(statSync(path).mtimeMs) }, (e) => (e ? reject(e) : resolve()));
      createReadStream(path).on("error", reject).pipe(entry);
    });
  }
  pack.finalize();
  await writing;
  return statSync(out).size;
}

/** What a file given to `ancla restore` is: one of our archives, or a bare database (older `ancla backup`). */
export function backupKind(file: string): "archive" | "database" {
  const head = readFileHead(file, 16);
  if (head[0] === 0x1f && head[1] === 0x8b) return "archive";
  if (head.toString("latin1") === SQLITE_MAGIC) return "database";
  throw new AppError(2, `${file} is neither an Ancla backup (.tar.gz) nor an SQLite database`, "usage", 2);
}

/** Unpack an archive's members into `dir` (created 0700, files 0600); returns the manifest. */
export async function unpackBackup(file: string, dir: string): Promise<BackupManifest> {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const extract = tar.extract();
  const seen = new Set<string>();
  extract.on("entry", (header, stream, next) => {
    const name = header.name.replace(/^\.\//, "");
    if (header.type !== "file" || !(MEMBERS as readonly string[]).includes(name) || seen.has(name)) {
      stream.resume();
      extract.destroy(new AppError(2, `${file} holds an unexpected entry '${header.name}'; not an Ancla backup`, "usage", 2));
      return;
    }
    seen.add(name);
    pipeline(stream, createWriteStream(join(dir, name), { mode: 0o600 })).then(() => next(), (e) => extract.destroy(e));
  });
  try {
    await pipeline(createReadStream(file), createGunzip(), extract);
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw new AppError(2, `${file} is not a readable Ancla backup: ${(e as Error).message}`, "usage", 2);
  }
  if (!seen.has("manifest.json") || !seen.has("ancla.db")) throw new AppError(2, `${file} lacks manifest.json or ancla.db; not an Ancla backup`, "usage", 2);
  const manifest = JSON.parse(readFileSync(join(dir, "manifest.json"), "utf8")) as BackupManifest;
  if (manifest.format !== BACKUP_FORMAT) throw new AppError(2, `${file} is not an Ancla backup (format ${String(manifest.format)})`, "usage", 2);
  if (manifest.format_version > BACKUP_FORMAT_VERSION) {
    throw new AppError(409, `${file} was written by a newer Ancla (backup format ${manifest.format_version}); restore it with that version`, "conflict", 5);
  }
  return manifest;
}
