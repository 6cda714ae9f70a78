// The current user's API keys: issue (`ancla_` + 40 base62 characters, stored as SHA-256 plus a
// short display prefix; the key itself is shown once), list, revoke, delete. Verifying a key on a
// request is the auth module's (auth/api-key.ts).
import { newId, randomBase62, sha256Hex } from "../../lib/ids";
import { NotFound, Unprocessable } from "../../errors";
import { isoNow, type Deps } from "../../deps";
import * as repo from "../auth/repo";
import { KEY_PREFIX } from "../auth/api-key";
import type { CreateKeyRequest } from "./model";
import { normalizeScopes } from "../auth/key-scopes";

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
  const key = KEY_PREFIX + randomBase62(40);
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
