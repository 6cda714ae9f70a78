// API keys: `ancla_` + 40 base62 characters; stored as SHA-256 plus a short display prefix.
import { timingSafeEqual } from "node:crypto";
import { newId, randomBase62, sha256Hex } from "../../lib/ids";
import { NotFound, Unprocessable } from "../../errors";
import { isoNow, type Deps } from "../../deps";
import type { UserRow } from "../auth/repo";
import * as repo from "./repo";
import { cachedUntilWrite } from "../../db/client";
import type { CreateKeyRequest } from "./model";
import { normalizeScopes } from "../auth/key-scopes";

const KEY_RE = /^ancla_[0-9A-Za-z]{40}$/;
const LAST_USED_EVERY_MS = 60_000; // avoid a write per request

export function toKeyInfo(k: repo.KeyRow) {
  return {
    key_id: k.id,
    name: k.name,
    scopes: k.scopes,
    is_active: k.isActive,
    created_at: k.createdAt,
    expires_at: k.expiresAt,
    last_used_at: k.lastUsedAt,
    metadata: k.metadata,
  };
}

export function createApiKey(deps: Deps, userId: string, input: CreateKeyRequest) {
  const nowIso = isoNow(deps);
  if (input.expires_at && new Date(input.expires_at).getTime() <= deps.clock.now().getTime()) {
    throw new Unprocessable("expires_at: must be in the future", [{ path: "expires_at", message: "must be in the future" }]);
  }
  const key = "ancla_" + randomBase62(40);
  const row = repo.insertKey(deps.db, {
    id: newId(),
    userId,
    name: input.name,
    prefix: key.slice(0, 12),
    hash: sha256Hex(key),
    scopes: normalizeScopes(input.scopes),
    metadata: input.metadata ?? {},
    isActive: true,
    createdAt: nowIso,
    expiresAt: input.expires_at ? new Date(input.expires_at).toISOString() : null,
  });
  return { key_id: row.id, key, name: row.name, scopes: row.scopes, created_at: row.createdAt, expires_at: row.expiresAt };
}

// Every request made with a key looks it up; the row pair only changes with a database write
// (revoke, delete, deactivation, last_used_at), which ends the cached entry. One cache per Deps.
const ownerCaches = new WeakMap<Deps, (sqlite: Deps["sqlite"], hash: string) => ReturnType<typeof repo.findKeyWithOwner>>();
function keyOwner(deps: Deps, hash: string) {
  let cached = ownerCaches.get(deps);
  if (!cached) ownerCaches.set(deps, (cached = cachedUntilWrite((h) => repo.findKeyWithOwner(deps.db, h))));
  return cached(deps.sqlite, hash);
}

/** The key's owner when the key is valid, active, unexpired and the user active; else null. */
export function verifyApiKey(deps: Deps, key: string): { user: UserRow; keyId: string; scopes: string[] } | null {
  if (!KEY_RE.test(key)) return null;
  const hash = sha256Hex(key);
  const found = keyOwner(deps, hash);
  // the lookup is by hash; compare again in constant time so equality never short-circuits
  if (!found || !timingSafeEqual(Buffer.from(found.key.hash), Buffer.from(hash))) return null;
  const { key: row, user } = found;
  const now = deps.clock.now();
  if (!row.isActive || (row.expiresAt && new Date(row.expiresAt) <= now)) return null;
  if (!user.active) return null;
  if (!row.lastUsedAt || now.getTime() - new Date(row.lastUsedAt).getTime() > LAST_USED_EVERY_MS) {
    repo.updateKey(deps.db, row.id, { lastUsedAt: now.toISOString() });
  }
  return { user, keyId: row.id, scopes: row.scopes };
}

export function getUserKey(deps: Deps, userId: string, keyId: string) {
  const row = repo.findUserKey(deps.db, userId, keyId);
  if (!row) throw new NotFound("API key");
  return row;
}

export function listApiKeys(deps: Deps, userId: string, limit: number, offset: number) {
  return {
    items: repo.listUserKeys(deps.db, userId, limit, offset).map(toKeyInfo),
    total: repo.countUserKeys(deps.db, userId),
    limit,
    offset,
  };
}

export function revokeApiKey(deps: Deps, userId: string, keyId: string): void {
  repo.updateKey(deps.db, getUserKey(deps, userId, keyId).id, { isActive: false });
}

export function deleteApiKey(deps: Deps, userId: string, keyId: string): void {
  repo.deleteKey(deps.db, getUserKey(deps, userId, keyId).id);
}
