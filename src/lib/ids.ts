// Identifiers: UUID v7 for rows, random base62 for secrets handed to users.
export const newId = (): string => Bun.randomUUIDv7();

export const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (s: string): boolean => UUID_RE.test(s);

const BASE62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

/** Uniform random base62 string (rejection sampling, no modulo bias). */
export function randomBase62(length: number): string {
  let out = "";
  while (out.length < length) {
    for (const b of crypto.getRandomValues(new Uint8Array(length * 2))) {
      if (b < 248 && out.length < length) out += BASE62[b % 62];
    }
  }
  return out;
}

// the one-shot form: ~0.5 µs where a CryptoHasher object costs ~2 µs (every request with a key or session hashes it)
export function sha256Hex(input: string): string {
  return Bun.SHA256.hash(input, "hex");
}
