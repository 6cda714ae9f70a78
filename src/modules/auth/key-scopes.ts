// API key scopes. The reference contract types `scopes` as free strings and names no values, so
// Ancla defines three and refuses others at creation (a typo must not silently mint a full key):
//   "*"     everything the key's user may do (the default when scopes are absent or empty)
//   "write" the same as "*" (reads and writes)
//   "read"  GET/HEAD/OPTIONS only; any other method answers 403
// A stored key that holds neither "*" nor "write" is read-only: unknown values fail closed.
import { z } from "zod";
import { Forbidden } from "../../errors";

export const KEY_SCOPES = ["*", "read", "write"] as const;
export const DEFAULT_SCOPES = ["*"];

export const scopesSchema = z
  .array(z.enum(KEY_SCOPES, { error: `must be one of ${KEY_SCOPES.map((s) => `"${s}"`).join(", ")}` }))
  .max(32)
  .describe('"*" or "write": full access (default); "read": read-only, writes answer 403');

/** Absent or empty means the default (full access), as before scopes were enforced. */
export const normalizeScopes = (scopes: string[] | undefined): string[] => (scopes?.length ? [...new Set(scopes)] : DEFAULT_SCOPES);

export const scopesAllowWrites = (scopes: string[]): boolean => scopes.length === 0 || scopes.includes("*") || scopes.includes("write");

export function assertKeyMayWrite(scopes: string[]): void {
  if (!scopesAllowWrites(scopes)) {
    throw new Forbidden('This API key is read-only (scope "read"); use a key with scope "write" or "*" to change anything.');
  }
}
