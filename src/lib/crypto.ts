// AES-256-GCM sealing of secret values under the server's 32-byte master key, and loading that
// key (ANCLA_MASTER_KEY as base64 or hex, else <data-dir>/master.key, created 0600 on first start).
import { createCipheriv, createDecipheriv, randomBytes, timingSafeEqual } from "node:crypto";
import { closeSync, existsSync, fsyncSync, openSync, readFileSync, renameSync, writeSync } from "node:fs";
import { join } from "node:path";

/**
 * A sealed value is one self-describing token, `enc:v1:<base64url(iv ‖ tag ‖ ciphertext)>`, so it
 * can sit in a column or inside a JSON snapshot and key rotation can find it wherever it lives.
 */
export const SEALED_PREFIX = "enc:v1:";
export const SEALED_TOKEN_RE = /enc:v1:[A-Za-z0-9_-]{38,}/g;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export type Secrets = {
  seal: (plaintext: string) => string;
  /** Throws SealError when the token is malformed or was sealed under another key. */
  open: (sealed: string) => string;
};

export class SealError extends Error {}

export const isSealed = (s: string): boolean => s.startsWith(SEALED_PREFIX);

export function createSecrets(key: Uint8Array): Secrets {
  if (key.length !== 32) throw new Error("master key must be 32 bytes");
  const k = Buffer.from(key);
  return {
    seal(plaintext) {
      const iv = randomBytes(IV_BYTES);
      const cipher = createCipheriv("aes-256-gcm", k, iv);
      const body = Buffer.concat([cipher.update(plaintext, "utf8"), cipher.final()]);
      return SEALED_PREFIX + Buffer.concat([iv, cipher.getAuthTag(), body]).toString("base64url");
    },
    open(sealed) {
      if (!isSealed(sealed)) throw new SealError("not a sealed value");
      const raw = Buffer.from(sealed.slice(SEALED_PREFIX.length), "base64url");
      if (raw.length < IV_BYTES + TAG_BYTES) throw new SealError("sealed value is truncated");
      try {
        const decipher = createDecipheriv("aes-256-gcm", k, raw.subarray(0, IV_BYTES));
        decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
        return Buffer.concat([decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)), decipher.final()]).toString("utf8");
      } catch {
        throw new SealError("sealed value does not open with this master key");
      }
    },
  };
}

/** A key given as text: 64 hex digits or base64/base64url of exactly 32 bytes. */
export function parseMasterKey(text: string): Uint8Array | null {
  const s = text.trim();
  if (/^[0-9a-fA-F]{64}$/.test(s)) return Buffer.from(s, "hex");
  if (/^[A-Za-z0-9+/_-]{43}={0,1}$/.test(s)) {
    const b = Buffer.from(s.replace(/-/g, "+").replace(/_/g, "/"), "base64");
    if (b.length === 32) return b;
  }
  return null;
}

export const masterKeyPath = (dataDir: string): string => join(dataDir, "master.key");

/** master.key holds the 32 raw bytes (older or hand-made files may hold hex/base64 text). */
export function readKeyFile(file: string): Uint8Array | null {
  const raw = readFileSync(file);
  if (raw.length === 32) return raw;
  return parseMasterKey(raw.toString("utf8"));
}

/** Write a key file atomically: temp file 0600, fsync, rename over the target. */
export function writeKeyFile(file: string, key: Uint8Array): void {
  const tmp = `${file}.${process.pid}.tmp`;
  const fd = openSync(tmp, "w", 0o600);
  try {
    writeSync(fd, key);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, file);
}

export const newMasterKey = (): Uint8Array => randomBytes(32);

export const sameKey = (a: Uint8Array, b: Uint8Array): boolean => a.length === b.length && timingSafeEqual(a, b);

export const keyFileExists = (dataDir: string): boolean => existsSync(masterKeyPath(dataDir));
