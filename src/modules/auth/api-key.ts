// API key verification, part of who is asking: `ancla_` + 40 base62 characters, looked up by its
// SHA-256 (only hashes are stored), compared again in constant time, active, unexpired, its user
// active. Issuing and revoking keys is the keys module's business (it builds on this one).
import { timingSafeEqual } from "node:crypto";
import { sha256Hex } from "../../lib/ids";
import type { Deps } from "../../deps";
import { cachedUntilWrite, readTx } from "../../db/client";
import { changeKey } from "../../db/sqlite";
import * as repo from "./repo";
import type { UserRow } from "./repo";

export const KEY_PREFIX = "ancla_";
const KEY_RE = /^ancla_[0-9A-Za-z]{40}$/;
const LAST_USED_EVERY_MS = 60_000; // avoid a write per request

// Every request made with a key looks it up; the row pair only changes with a database write
// (revoke, delete, deactivation, last_used_at), which ends the cached entry. One cache per Deps.
// The check (changeKey) and a miss's lookup share one read transaction: two statements' locks
// outside one cost more than the lookup itself.
const ownerCaches = new WeakMap<Deps, (sqlite: Deps["sqlite"], hash: string) => ReturnType<typeof repo.findKeyWithOwner>>();
// Also returns the change key read before the lookup (the answer cache tags answers with it).
function keyOwner(deps: Deps, hash: string) {
  let cached = ownerCaches.get(deps);
  if (!cached) ownerCaches.set(deps, (cached = cachedUntilWrite((h) => repo.findKeyWithOwner(deps.db, h))));
  const lookup = cached;
  return readTx(deps.sqlite, () => {
    const seen = changeKey(deps.sqlite);
    return { seen, found: lookup(deps.sqlite, hash) };
  });
}

/**
 * The key's owner when the key is valid, active, unexpired and the user active; else null. Also
 * the database's change key read before the lookup, and the last millisecond until which the key
 * is accepted without a write (its expiry, or when `last_used_at` is due again).
 */
export function verifyApiKey(deps: Deps, key: string): { user: UserRow; keyId: string; scopes: string[]; changeKey: string; validThroughMs: number } | null {
  if (!KEY_RE.test(key)) return null;
  const hash = sha256Hex(key);
  const { seen, found } = keyOwner(deps, hash);
  // the lookup is by hash; compare again in constant time so equality never short-circuits
  if (!found || !timingSafeEqual(Buffer.from(found.key.hash), Buffer.from(hash))) return null;
  const { key: row, user } = found;
  const now = deps.clock.now();
  if (!row.isActive || (row.expiresAt && new Date(row.expiresAt) <= now)) return null;
  if (!user.active) return null;
  // recorded again once it is older than LAST_USED_EVERY_MS (that write also ends cached answers)
  const usedUntil = row.lastUsedAt ? new Date(row.lastUsedAt).getTime() + LAST_USED_EVERY_MS : -Infinity;
  if (now.getTime() > usedUntil) repo.updateKey(deps.db, row.id, { lastUsedAt: now.toISOString() });
  const validThroughMs = Math.min(usedUntil, row.expiresAt ? new Date(row.expiresAt).getTime() - 1 : Infinity);
  return { user, keyId: row.id, scopes: row.scopes, changeKey: seen, validThroughMs };
}
