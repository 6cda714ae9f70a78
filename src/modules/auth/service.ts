// Users, passwords, browser sessions and who is asking (the Actor).
import { randomBase62, sha256Hex, newId } from "../../lib/ids";
import { Conflict, Forbidden, Unauthorized } from "../../errors";
import { isoNow, type Deps } from "../../deps";
import * as repo from "./repo";
import type { UserRow } from "./repo";
import type { UserResponse } from "./model";
import { verifyApiKey } from "./api-key";
import { assertKeyMayWrite } from "./key-scopes";
import type { LoginLimiter } from "./limiter";
import { dummyHashOf } from "../../lib/passwords";
import { readTx } from "../../db/client";
import { changeKey } from "../../db/sqlite";
import { recordCredential } from "./answer-cache";
import { readCookie, SESSION_COOKIE } from "./cookies";

export { readCookie, SESSION_COOKIE };

/** scopes: the API key's (see key-scopes.ts); absent for a browser session, which may do anything its user may. */
export type Actor = { user: UserRow; via: "session" | "key"; keyId?: string; scopes?: string[] };

const SESSION_TTL_MS = 14 * 24 * 3600 * 1000;

export const hashPassword = (deps: Pick<Deps, "passwords">, password: string) => deps.passwords.hash(password);

export function toUserResponse(u: UserRow): UserResponse {
  return {
    id: u.id,
    username: u.username,
    email: u.email,
    admin: u.isAdmin,
    active: u.active,
    registered_at: u.registeredAt,
    last_login_at: u.lastLoginAt,
  };
}

export async function createUser(
  deps: Deps,
  input: { username: string; email: string; password: string; admin?: boolean },
): Promise<UserRow> {
  const existing = repo.findUserByLogin(deps.db, input.username) ?? repo.findUserByLogin(deps.db, input.email);
  if (existing) throw new Conflict("A user with that username or email already exists.");
  return repo.insertUser(deps.db, {
    id: newId(),
    username: input.username,
    email: input.email,
    passwordHash: await hashPassword(deps, input.password),
    isAdmin: input.admin ?? false,
    active: true,
    registeredAt: isoNow(deps),
  });
}

export { LoginLimiter } from "./limiter";

export async function login(
  deps: Deps,
  limiter: LoginLimiter,
  input: { email: string; password: string; ip: string },
): Promise<{ token: string; user: UserRow; maxAgeSeconds: number }> {
  const login = input.email.trim().toLowerCase();
  const key = `${input.ip}|${login}`;
  const now = deps.clock.now().getTime();
  limiter.check(key, now);
  const user = repo.findUserByLogin(deps.db, login);
  // verify against a real hash even for unknown users so timing does not reveal who exists
  const hash = user?.passwordHash ?? (await dummyHashOf(deps.passwords));
  const ok = await deps.passwords.verify(input.password, hash);
  if (!user || !ok || !user.active) {
    limiter.fail(key, now);
    throw new Unauthorized("Invalid email or password.");
  }
  limiter.reset(key);
  const token = randomBase62(43);
  const nowIso = isoNow(deps);
  repo.insertSession(deps.db, {
    id: sha256Hex(token),
    userId: user.id,
    createdAt: nowIso,
    expiresAt: new Date(now + SESSION_TTL_MS).toISOString(),
  });
  const updated = repo.updateUser(deps.db, user.id, { lastLoginAt: nowIso }) ?? user;
  return { token, user: updated, maxAgeSeconds: SESSION_TTL_MS / 1000 };
}

export function logout(deps: Deps, token: string | undefined): void {
  if (token) repo.deleteSession(deps.db, sha256Hex(token));
}

export function sessionCookie(token: string, maxAgeSeconds: number, secure: boolean): string {
  return `${SESSION_COOKIE}=${token}; Path=/; HttpOnly; SameSite=Lax; Max-Age=${maxAgeSeconds}${secure ? "; Secure" : ""}`;
}
export const clearedSessionCookie = `${SESSION_COOKIE}=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0`;

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);
/** What randomBase62(43) issues; anything else cannot be a session and is not looked up. */
const SESSION_TOKEN_RE = /^[0-9A-Za-z]{43}$/;

/** Who is calling: an API key wins over the cookie. Cookie writes must come from our own origin. */
export function resolveActor(deps: Deps, request: Request): Actor | null {
  const key = request.headers.get("x-api-key");
  if (key) {
    const found = verifyApiKey(deps, key);
    if (!found) throw new Unauthorized("Invalid or expired API key.");
    // decided before the body is read or validated, like authentication itself
    if (!SAFE_METHODS.has(request.method)) assertKeyMayWrite(found.scopes);
    recordCredential(request, { changeKey: found.changeKey, validThroughMs: found.validThroughMs });
    return { user: found.user, via: "key", keyId: found.keyId, scopes: found.scopes };
  }
  const token = readCookie(request.headers.get("cookie"), SESSION_COOKIE);
  if (!token || !SESSION_TOKEN_RE.test(token)) return null;
  let seen = "";
  let expiresAt = "";
  const user = readTx(deps.sqlite, () => {
    seen = changeKey(deps.sqlite); // before any read: see answer-cache.ts
    const session = repo.findLiveSession(deps.db, sha256Hex(token), isoNow(deps));
    if (session) expiresAt = session.expiresAt;
    return session ? repo.findUserById(deps.db, session.userId) : undefined;
  });
  if (!user || !user.active) return null;
  if (!SAFE_METHODS.has(request.method)) assertSameOrigin(deps, request);
  // the session is live while expires_at > now (see findLiveSession)
  recordCredential(request, { changeKey: seen, validThroughMs: new Date(expiresAt).getTime() - 1 });
  return { user, via: "session" };
}

function assertSameOrigin(deps: Deps, request: Request): void {
  const origin = request.headers.get("origin");
  if (!origin) {
    if (request.headers.get("sec-fetch-site") === "cross-site") throw new Forbidden("Cross-site request refused.");
    return;
  }
  const host = request.headers.get("host");
  let originHost: string;
  try {
    originHost = new URL(origin).host;
  } catch {
    throw new Forbidden("Cross-site request refused.");
  }
  const publicHost = deps.config.publicUrl ? new URL(deps.config.publicUrl).host : undefined;
  if (originHost !== host && originHost !== publicHost) throw new Forbidden("Cross-site request refused.");
}

export function requireUser(actor: Actor | null): Actor {
  if (!actor) throw new Unauthorized();
  return actor;
}

export function requireServerAdmin(actor: Actor | null): Actor {
  const a = requireUser(actor);
  if (!a.user.isAdmin) throw new Forbidden("Server administrators only.");
  return a;
}
