// Scheduled backups with an injected clock (due after --backup-every, pruned to --backup-keep,
// 0700/0600, the key's fingerprint but never the key), what /api/v1/status and /admin/backups
// report, and `ancla restore` into a fresh data dir: a live server there lists the same resources
// with the original master key (and refuses to start without it).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Database } from "bun:sqlite";
import { createApp } from "../../src/app";
import { serveConfigSchema } from "../../src/config";
import { closeDeps, createDeps, type Clock, type Deps } from "../../src/deps";
import { silentLogger } from "../../src/lib/logger";
import { readKeyFile } from "../../src/lib/crypto";
import { createUser } from "../../src/modules/auth/service";
import { createApiKey } from "../../src/modules/keys/service";
import { startBackupSchedule } from "../../src/modules/backups/schedule";
import { fingerprintOf, unpackBackup } from "../../src/modules/backups/archive";
import { ancla, startLiveServer } from "../support/server";

// live servers and CLI subprocesses; a busy shared machine needs more than bun's 5 s
setDefaultTimeout(300_000);

const root = mkdtempSync(join(tmpdir(), "ancla-backups-"));
const dataDir = join(root, "data");
let now = new Date("2026-03-01T02:00:00.000Z");
const clock: Clock = { now: () => now };
let deps: Deps;
let app: ReturnType<typeof createApp>;
let key: string;
const SVC = "/api/v1/orgs/keep-co/projects/shop/envs/production/services";

const req = async (method: string, path: string, body?: unknown) => {
  const res = await app.handle(new Request("http://localhost" + path, { method, headers: { "x-api-key": key, ...(body ? { "content-type": "application/json" } : {}) }, body: body ? JSON.stringify(body) : undefined }));
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined };
};

beforeAll(async () => {
  deps = createDeps(serveConfigSchema.parse({ dataDir, backupEvery: "24h", backupKeep: "2" }), { logger: silentLogger, clock });
  app = createApp(deps);
  const admin = await createUser(deps, { username: "admin", email: "admin@example.test", password: "password-admin", admin: true });
  key = createApiKey(deps, admin.id, { name: "test" }).key;
  expect((await req("POST", "/api/v1/organizations", { name: "Keep Co", slug: "keep-co" })).status).toBe(201);
  expect((await req("POST", "/api/v1/orgs/keep-co/projects", { name: "Shop", slug: "shop" })).status).toBe(201);
  expect((await req("POST", SVC, { name: "web", port: 9000 })).status).toBe(201);
  expect((await req("POST", `${SVC}/web/config`, { name: "API_TOKEN", value: "s3cret-value", secret: true })).status).toBe(201);
  expect((await req("POST", `${SVC}/web/config`, { name: "GREETING", value: "hi" })).status).toBe(201);
});

afterAll(() => {
  closeDeps(deps);
  rmSync(root, { recursive: true, force: true });
});

const backupDir = () => join(dataDir, "backups");

describe("scheduled backups", () => {
  test("due on the first check, then every 24 h of the injected clock; the newest 2 are kept; private; key fingerprint only", async () => {
    const schedule = startBackupSchedule(deps, { timer: false });
    const first = await schedule.tick();
    expect(first?.file).toBe(join(backupDir(), "ancla-backup-20260301T020000Z.tar.gz"));
    now = new Date("2026-03-01T20:00:00.000Z");
    expect(await schedule.tick()).toBeNull(); // 18 h later: not due
    now = new Date("2026-03-02T02:00:00.000Z");
    expect((await schedule.tick())?.file).toEndWith("ancla-backup-20260302T020000Z.tar.gz");
    now = new Date("2026-03-03T02:30:00.000Z");
    expect((await req("POST", `${SVC}/web/config`, { name: "LATE", value: "after the second backup" })).status).toBe(201);
    expect((await schedule.tick())?.file).toEndWith("ancla-backup-20260303T023000Z.tar.gz");
    await schedule.stop();
    expect(readdirSync(backupDir()).sort()).toEqual(["ancla-backup-20260302T020000Z.tar.gz", "ancla-backup-20260303T023000Z.tar.gz"]);
    expect(statSync(backupDir()).mode & 0o777).toBe(0o700);
    for (const f of readdirSync(backupDir())) expect(statSync(join(backupDir(), f)).mode & 0o777).toBe(0o600);

    const unpacked = join(root, "unpacked");
    const manifest = await unpackBackup(join(backupDir(), "ancla-backup-20260303T023000Z.tar.gz"), unpacked);
    expect(readdirSync(unpacked).sort()).toEqual(["ancla.db", "manifest.json"]);
    expect(manifest).toMatchObject({ format: "ancla-backup", created_at: "2026-03-03T02:30:00.000Z", master_key: { included: false, fingerprint: fingerprintOf(readKeyFile(join(dataDir, "master.key"))!) } });
    const copy = new Database(join(unpacked, "ancla.db"), { readonly: true });
    expect(copy.query("select name from config_vars order by name").all()).toEqual([{ name: "API_TOKEN" }, { name: "GREETING" }, { name: "LATE" }]);
    expect(JSON.stringify(copy.query("select value from config_vars where name = 'API_TOKEN'").get())).not.toContain("s3cret-value");
    copy.close();
  });

  test("status and the admin backups route report the last backup and its age by the same clock", async () => {
    now = new Date("2026-03-03T04:30:00.000Z");
    const status = await req("GET", "/api/v1/status");
    expect(status.status).toBe(200);
    expect(status.body.backups).toMatchObject({
      last: { file: join(backupDir(), "ancla-backup-20260303T023000Z.tar.gz"), created_at: "2026-03-03T02:30:00.000Z", age_seconds: 7200 },
      count: 2,
      every_seconds: 86400,
      keep: 2,
      next_due_at: "2026-03-04T02:30:00.000Z",
      last_error: null,
    });
    expect(status.body.queue).toEqual({ queued: 0, running: 0 });
    expect(status.body.router).toMatchObject({ listening: false });
    // server admins only; the liveness probe stays open
    const anon = await app.handle(new Request("http://localhost/api/v1/status"));
    expect(anon.status).toBe(401);
    const member = await createUser(deps, { username: "member", email: "member@example.test", password: "password-member" });
    const memberKey = createApiKey(deps, member.id, { name: "m" }).key;
    expect((await app.handle(new Request("http://localhost/api/v1/status", { headers: { "x-api-key": memberKey } }))).status).toBe(403);
    expect((await app.handle(new Request("http://localhost/api/v1/admin/backups", { method: "POST", headers: { "x-api-key": memberKey } }))).status).toBe(403);
    expect((await app.handle(new Request("http://localhost/api/v1/integrations/health"))).status).toBe(200);
    const list = await req("GET", "/api/v1/admin/backups");
    expect(list.body.items.map((b: { created_at: string }) => b.created_at)).toEqual(["2026-03-03T02:30:00.000Z", "2026-03-02T02:00:00.000Z"]);
  });
});

describe("ancla restore", () => {
  const latest = () => join(backupDir(), "ancla-backup-20260303T023000Z.tar.gz");

  test("refuses a data dir that is not empty, and a key that is not the backup's", async () => {
    const busy = join(root, "busy");
    const { mkdirSync } = await import("node:fs");
    mkdirSync(busy);
    writeFileSync(join(busy, "something"), "x");
    const r = await ancla(["restore", latest(), "--data-dir", busy]);
    expect(r.code).toBe(5);
    expect(r.stderr).toContain(`${busy} is not empty`);
    const wrongKey = join(root, "wrong.key");
    writeFileSync(wrongKey, "11".repeat(32));
    const w = await ancla(["restore", latest(), "--data-dir", join(root, "never"), "--master-key-file", wrongKey]);
    expect(w.code).toBe(2);
    expect(w.stderr).toContain("is not the key this backup was made with");
    expect(existsSync(join(root, "never"))).toBe(false);
  });

  test("without the key: restored, says which key to bring, and the server refuses to start without it", async () => {
    const target = join(root, "no-key");
    const r = await ancla(["restore", latest(), "--data-dir", target]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`no master key restored: put the key with fingerprint ${fingerprintOf(readKeyFile(join(dataDir, "master.key"))!)}`);
    expect(readdirSync(target).sort()).toEqual(["ancla.db"]);
    const serve = await ancla(["serve", "--data-dir", target, "--listen", "127.0.0.1:0", "--router", "127.0.0.1:0"]);
    expect(serve.code).not.toBe(0);
    expect(serve.stderr).toContain("master.key is missing but the database holds encrypted secrets");
  });

  test("with the original key: a live server on the restored dir lists the same resources through the API", async () => {
    const target = join(root, "restored");
    const r = await ancla(["restore", latest(), "--data-dir", target, "--master-key-file", join(dataDir, "master.key"), "--json"]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ data_dir: target, created_at: "2026-03-03T02:30:00.000Z", master_key: "copied" });
    expect(statSync(target).mode & 0o777).toBe(0o700);
    expect(statSync(join(target, "master.key")).mode & 0o777).toBe(0o600);
    const s = await startLiveServer({ dataDir: target, createKey: false });
    try {
      const get = async (path: string) => (await fetch(s.url + path, { headers: { "x-api-key": key } })).json() as Promise<any>;
      expect((await get("/api/v1/organizations")).map((o: { slug: string }) => o.slug)).toEqual(["keep-co"]);
      expect(await get(`${SVC}/web`)).toMatchObject({ slug: "web", port: 9000 });
      const resolved = await get(`${SVC}/web/config/resolved`);
      expect(Object.fromEntries(resolved.map((v: { name: string; value: string }) => [v.name, v.value]))).toEqual({ API_TOKEN: "**secret**", GREETING: "hi", LATE: "after the second backup" });
    } finally {
      await s.stop({ keep: true });
    }
  });

  test("a backup that includes the key restores without one", async () => {
    const file = join(root, "with-key.tar.gz");
    const b = await ancla(["backup", file, "--data-dir", dataDir, "--include-key"]);
    expect(b.code).toBe(0);
    expect(b.stdout).toContain("master.key is inside");
    const target = join(root, "with-key");
    const r = await ancla(["restore", file, "--data-dir", target, "--json"]);
    expect(r.json().master_key).toBe("included");
    expect(readFileSync(join(target, "master.key")).equals(readFileSync(join(dataDir, "master.key")))).toBe(true);
  });
});
