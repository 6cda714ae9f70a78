// The Docker registry token protocol (distribution's docs/spec/auth/token.md): a client that got
// 401 from the registry asks this realm with basic auth (username + Ancla API key) for a JWT
// granting the requested scopes; Ancla grants only repositories `<org>/…` of organizations the
// user belongs to — pull for members, push with a key that may write, delete for org admins —
// and silently drops the rest (the registry then denies them). ES256, `x5c` = the signing cert.
import { createSign, randomUUID } from "node:crypto";
import type { Deps } from "../../deps";
import { BadRequest, Unauthorized } from "../../errors";
import { verifyApiKey } from "../auth/api-key";
import { scopesAllowWrites } from "../auth/key-scopes";
import type { UserRow } from "../auth/repo";
import { findMembership, findOrgBySlug } from "../orgs/repo";
import type { SigningKey } from "./signing-key";

// loaded on first use, not at start: @peculiar/x509 is large and only registry logins need it
const signingKey = async (deps: Deps): Promise<SigningKey> => (await import("./signing-key")).signingKey(deps);

export const TOKEN_TTL_SECONDS = 300;
const REPO_NAME = /^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/;
const MAX_SCOPES = 32;

export type Access = { type: string; name: string; actions: string[] };
export type TokenRequest = { authorization: string | null; service?: string; account?: string; scopes: string[] };
export type TokenResponse = { token: string; access_token: string; expires_in: number; issued_at: string };

/** `repository:acme/app:pull,push` (class suffix `repository(plugin)` allowed) → access entries. */
export function parseScopes(raw: string[]): Access[] {
  const items = raw.flatMap((s) => s.split(" ")).filter(Boolean);
  if (items.length > MAX_SCOPES) throw new BadRequest(`At most ${MAX_SCOPES} scopes per token request.`);
  return items.map((item) => {
    const first = item.indexOf(":");
    const last = item.lastIndexOf(":");
    if (first < 0 || last === first || item.length > 512) throw new BadRequest(`Scope '${item.slice(0, 100)}' is not type:name:actions.`);
    const type = item.slice(0, first).replace(/\([a-z0-9]+\)$/, "");
    return { type, name: item.slice(first + 1, last), actions: [...new Set(item.slice(last + 1).split(",").filter(Boolean))] };
  });
}

function basicCredentials(header: string | null): { username: string; password: string } | null {
  if (!header?.toLowerCase().startsWith("basic ")) return null;
  const decoded = Buffer.from(header.slice(6).trim(), "base64").toString("utf8");
  const i = decoded.indexOf(":");
  return i < 0 ? null : { username: decoded.slice(0, i), password: decoded.slice(i + 1) };
}

/** The user behind username + API key; 401 for anything else (no hint which half was wrong). */
export function authenticate(deps: Deps, username: string, password: string): { user: UserRow; scopes: string[] } {
  const found = verifyApiKey(deps, password);
  if (!found || found.user.username !== username) throw new Unauthorized("Invalid username or API key.");
  return { user: found.user, scopes: found.scopes };
}

/** The subset of `wanted` this user may have. */
export function grant(deps: Deps, who: { user: UserRow; scopes: string[] }, wanted: Access[]): Access[] {
  const out: Access[] = [];
  const writes = scopesAllowWrites(who.scopes);
  for (const w of wanted) {
    let allowed: string[] = [];
    if (w.type === "repository" && w.name.length <= 255 && REPO_NAME.test(w.name) && w.name.includes("/")) {
      const org = findOrgBySlug(deps.db, w.name.split("/")[0]!);
      const member = org ? findMembership(deps.db, org.id, who.user.id) : undefined;
      if (member || (org && who.user.isAdmin)) {
        const admin = who.user.isAdmin || !!member?.admin;
        const may = new Set(["pull", ...(writes ? ["push"] : []), ...(writes && admin ? ["delete"] : [])]);
        allowed = w.actions.includes("*") ? [...may] : w.actions.filter((a) => may.has(a));
      }
    } else if (w.type === "registry" && w.name === "catalog" && who.user.isAdmin) {
      allowed = w.actions.filter((a) => a === "*");
    }
    if (allowed.length) out.push({ type: w.type, name: w.name, actions: allowed });
  }
  return out;
}

const b64url = (v: unknown) => Buffer.from(typeof v === "string" ? v : JSON.stringify(v)).toString("base64url");

export async function issueToken(deps: Deps, req: TokenRequest): Promise<TokenResponse> {
  const creds = basicCredentials(req.authorization);
  if (!creds) throw new Unauthorized("Send your Ancla username and an API key with basic auth (docker login -u <username>).");
  const who = authenticate(deps, creds.username, creds.password);
  if (req.account && req.account !== who.user.username) throw new Unauthorized("The account does not match the credentials.");
  if (!req.service || req.service.length > 255) throw new BadRequest("The service parameter (the registry's auth.token.service) is required.");
  const access = grant(deps, who, parseScopes(req.scopes));
  const k = await signingKey(deps);
  const now = Math.floor(deps.clock.now().getTime() / 1000);
  const header = { typ: "JWT", alg: "ES256", x5c: [k.certificateDer.toString("base64")] };
  const claims = { iss: deps.config.registryIssuer, sub: who.user.username, aud: req.service, exp: now + TOKEN_TTL_SECONDS, nbf: now - 1, iat: now, jti: randomUUID(), access };
  const input = `${b64url(header)}.${b64url(claims)}`;
  const signature = createSign("SHA256").update(input).sign({ key: k.key, dsaEncoding: "ieee-p1363" }).toString("base64url");
  const token = `${input}.${signature}`;
  return { token, access_token: token, expires_in: TOKEN_TTL_SECONDS, issued_at: new Date(now * 1000).toISOString() };
}

export async function signingCertificate(deps: Deps): Promise<{ certificate: string }> {
  return { certificate: (await signingKey(deps)).certificatePem };
}
