// In-process test harness: a fresh data dir and SQLite database per call, requests via app.handle.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app";
import { serveConfigSchema } from "../../src/config";
import { closeDeps, createDeps, type Deps } from "../../src/deps";
import { silentLogger } from "../../src/lib/logger";
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

/** `config`: `ancla serve` settings; `overrides`: parts of Deps to replace (a fake deploy target, a clock). */
export async function testApp(config: Record<string, unknown> = {}, overrides: Partial<Deps> = {}): Promise<TestApp> {
  const dataDir = mkdtempSync(join(tmpdir(), "ancla-test-"));
  const deps = createDeps(serveConfigSchema.parse({ dataDir, ...config }), { logger: silentLogger, ...overrides });
  const app = createApp(deps);
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

/** A table's full contents, to prove a rejected request changed nothing. */
export function snapshotDb(deps: Deps): string {
  const tables = deps.sqlite.query("select name from sqlite_master where type='table' and name not like '%drizzle%' order by name").all() as { name: string }[];
  return JSON.stringify(tables.map((t) => [t.name, deps.sqlite.query(`select * from "${t.name}"`).all()]));
}
