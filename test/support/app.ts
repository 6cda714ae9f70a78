// In-process test harness: a fresh data dir and SQLite database per call, requests via app.handle.
import { expect } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createLazyApp, wire } from "../../src/route-groups";
import { serveConfigSchema } from "../../src/config";
import { closeDeps, createDeps, type Deps } from "../../src/deps";
import { silentLogger } from "../../src/lib/logger";
import type { PasswordHasher } from "../../src/lib/passwords";
import { createUser } from "../../src/modules/auth/service";
import { createApiKey } from "../../src/modules/keys/service";

export type TestResponse = { status: number; body: any; headers: Headers; text: string };
export type ReqOptions = { key?: string; cookie?: string; headers?: Record<string, string>; raw?: BodyInit };

export type TestApp = {
  deps: Deps;
  dataDir: string;
  /** Every response body this app produced (for secret-leak scans). */
  bodies: string[];
  req: (method: string, path: string, body?: unknown, opts?: ReqOptions) => Promise<TestResponse>;
  /** A new user (optionally server admin) and an API key for it. */
  user: (username: string, opts?: { admin?: boolean }) => Promise<{ id: string; key: string; username: string }>;
  close: () => void;
};

/**
 * argon2id at the smallest cost (8 KiB, one pass): the same algorithm and hash format as the
 * server's, ~1000× cheaper. At the server's cost hashing was ~85% of the API suite's CPU, one
 * hash per user in every beforeEach. Reaches only a Deps built here; `ancla serve` has no setting for it.
 */
export const cheapPasswords: PasswordHasher = {
  hash: (password) => Bun.password.hash(password, { algorithm: "argon2id", memoryCost: 8, timeCost: 1 }),
  verify: (password, hash) => Bun.password.verify(password, hash),
};

/** `config`: `ancla serve` settings; `overrides`: parts of Deps to replace (a fake deploy target, a clock). */
export async function testApp(config: Record<string, unknown> = {}, overrides: Partial<Deps> = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), "ancla-test-"));
  const deps = createDeps(serveConfigSchema.parse({ dataDir, ...config }), { logger: silentLogger, passwords: cheapPasswords, ...overrides });
  // as `ancla serve` runs it: each route group mounted on the first request that falls in it, the
  // job handlers and hooks wired at start (tests call services directly too)
  const app = createLazyApp(deps);
  await wire();
  const bodies: string[] = [];
  const req = async (method: string, path: string, body?: unknown, opts: ReqOptions = {}) => {
    const headers: Record<string, string> = { ...(opts.headers ?? {}) };
    if (opts.key) headers["x-api-key"] = opts.key;
    if (opts.cookie) headers.cookie = opts.cookie;
    let payload: BodyInit | undefined = opts.raw;
    if (body !== undefined) {
      payload = JSON.stringify(body);
      headers["content-type"] ??= "application/json";
    }
    const res = await app.handle(new Request("http://localhost" + path, { method, headers, body: payload }));
    const text = await res.text();
    bodies.push(text);
    let parsed: unknown = undefined;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      parsed = text;
    }
    return { status: res.status, body: parsed as any, headers: res.headers, text };
  };
  const user = async (username: string, opts: { admin?: boolean } = {}) => {
    const u = await createUser(deps, { username, email: `${username}@example.test`, password: "password-" + username, admin: opts.admin });
    const k = createApiKey(deps, u.id, { name: "test" });
    return { id: u.id, key: k.key, username };
  };
  const close = () => {
    closeDeps(deps);
    rmSync(dataDir, { recursive: true, force: true });
  };
  return { deps, dataDir, bodies, req, user, close };
}

export type TestUser = Awaited<ReturnType<TestApp["user"]>>;
export type OrgsWorld = { owner: TestUser; member: TestUser; outsider: TestUser; root?: TestUser; projectId?: string };

/**
 * The world most API tests start from: `owner` is admin of organization "acme" (Acme) and
 * `member` a member of it, `outsider` admin of "other" (Other); `project` adds project "web" to
 * acme (`otherProject`: to other too), `root` a server admin. Every key is used here once: a key's
 * first use stamps last_used_at, which a later database snapshot must not see change.
 */
export async function orgsWorld(t: TestApp, opts: { project?: boolean; otherProject?: boolean; root?: boolean } = {}): Promise<OrgsWorld> {
  const owner = await t.user("owner");
  const member = await t.user("member");
  const outsider = await t.user("outsider");
  const root = opts.root ? await t.user("root", { admin: true }) : undefined;
  const created = async (path: string, body: unknown, key: string) => {
    const r = await t.req("POST", path, body, { key });
    expect([path, r.status]).toEqual([path, 201]);
    return r.body;
  };
  await created("/api/v1/organizations", { name: "Acme" }, owner.key);
  await created("/api/v1/organizations/acme/members", { username: "member" }, owner.key);
  await created("/api/v1/organizations", { name: "Other" }, outsider.key);
  const projectId = opts.project ? (await created("/api/v1/projects/acme", { name: "Web" }, owner.key)).id : undefined;
  if (opts.otherProject) await created("/api/v1/projects/other", { name: "Web" }, outsider.key);
  for (const u of [member, ...(root ? [root] : [])]) await t.req("GET", "/api/v1/organizations", undefined, { key: u.key });
  return { owner, member, outsider, root, projectId };
}

/** A table's full contents, to prove a rejected request changed nothing. */
export function snapshotDb(deps: Deps): string {
  const tables = deps.sqlite.query("select name from sqlite_master where type='table' and name not like '%drizzle%' order by name").all() as { name: string }[];
  return JSON.stringify(tables.map((t) => [t.name, deps.sqlite.query(`select * from "${t.name}"`).all()]));
}
