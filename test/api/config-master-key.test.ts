// The master key: created once, verified on every start, never replaced while secrets exist;
// rotation re-seals everything. Uses the real composition root, CLI and `ancla serve`.
import { afterEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveConfigSchema } from "../../src/config";
import { closeDeps, createDeps, type Deps } from "../../src/deps";
import { silentLogger } from "../../src/lib/logger";
import { createSecrets, newMasterKey } from "../../src/lib/crypto";
import { settings, configVars } from "../../src/db/schema";
import { runCli } from "../../src/cli";
import { ancla } from "../support/server";
import { sha256Hex } from "../../src/lib/ids";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});
const freshDir = () => {
  const d = mkdtempSync(join(tmpdir(), "ancla-key-"));
  dirs.push(d);
  return d;
};
const open = (dataDir: string, masterKey?: string) => createDeps(serveConfigSchema.parse({ dataDir, masterKey }), { logger: silentLogger });
const hexKey = () => Buffer.from(newMasterKey()).toString("hex");

/** One org-scope secret written straight through the repo layer (no routes needed here). */
function storeSecret(deps: Deps, name: string, value: string) {
  const now = new Date().toISOString();
  deps.db.insert(configVars).values({ id: crypto.randomUUID(), scope: "organization", scopeId: "org-1", name, value: deps.secrets.seal(value), secret: true, createdAt: now, updatedAt: now }).run();
}
const secretsOf = (deps: Deps) =>
  Object.fromEntries(deps.db.select().from(configVars).all().map((r) => [r.name, r.secret ? deps.secrets.open(r.value) : r.value]));
// -shm is SQLite's scratch memory; serve.lock is the (always empty) file `ancla serve` locks to
// keep one server per data dir, taken before the key is checked and left in place on purpose
const fileHashes = (dir: string) =>
  Object.fromEntries(readdirSync(dir).filter((f) => !f.endsWith("-shm") && f !== "serve.lock").map((f) => [f, sha256Hex(readFileSync(join(dir, f)).toString("base64"))]));

function captureIo() {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (s: string) => out.push(s), err: (s: string) => err.push(s), readStdin: async () => "", stdinIsTty: false }, out, err };
}

describe("master key at start", () => {
  test("first start creates a 0600 32-byte key file and a check value; later starts open the secrets", () => {
    const dir = freshDir();
    const a = open(dir);
    storeSecret(a, "DB_PASSWORD", "hunter2-hunter2");
    closeDeps(a);
    const file = join(dir, "master.key");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(readFileSync(file).length).toBe(32);
    const b = open(dir);
    expect(b.db.select().from(settings).all().map((s) => s.key)).toContain("master_key_check");
    expect(secretsOf(b)).toEqual({ DB_PASSWORD: "hunter2-hunter2" });
    closeDeps(b);
  });

  test("a wrong key refuses with a clear message and leaves every file byte-identical", () => {
    const dir = freshDir();
    const a = open(dir);
    storeSecret(a, "TOKEN", "value-1234");
    closeDeps(a);
    const before = fileHashes(dir);
    expect(() => open(dir, hexKey())).toThrow(/does not decrypt the secrets stored in this data dir/);
    expect(fileHashes(dir)).toEqual(before);
    // a malformed key is refused before anything else
    expect(() => open(dir, "not-a-key")).toThrow(/must be 32 bytes/);
    writeFileSync(join(dir, "master.key"), "garbage");
    expect(() => open(dir)).toThrow(/is not a valid master key/);
    expect(readFileSync(join(dir, "master.key"), "utf8")).toBe("garbage");
  });

  test("a missing key file with stored secrets refuses and never creates a new key", () => {
    const dir = freshDir();
    const a = open(dir);
    storeSecret(a, "TOKEN", "value-1234");
    closeDeps(a);
    rmSync(join(dir, "master.key"));
    const before = fileHashes(dir);
    expect(() => open(dir)).toThrow(/master.key is missing but the database holds encrypted secrets/);
    expect(existsSync(join(dir, "master.key"))).toBe(false);
    expect(fileHashes(dir)).toEqual(before);
  });

  test("ANCLA_MASTER_KEY (hex or base64) is used instead of a key file", () => {
    const dir = freshDir();
    const key = hexKey();
    const a = open(dir, key);
    storeSecret(a, "TOKEN", "from-env-key");
    closeDeps(a);
    expect(existsSync(join(dir, "master.key"))).toBe(false);
    const b = open(dir, Buffer.from(key, "hex").toString("base64"));
    expect(secretsOf(b)).toEqual({ TOKEN: "from-env-key" });
    closeDeps(b);
    expect(() => open(dir)).toThrow(/missing/);
  });

  test("`ancla serve` with a wrong key exits non-zero, says why, and the database is untouched", async () => {
    const dir = freshDir();
    const a = open(dir);
    storeSecret(a, "TOKEN", "serve-refusal-secret");
    closeDeps(a);
    const before = fileHashes(dir);
    const r = await ancla(["serve", "--data-dir", dir, "--listen", "127.0.0.1:0", "--router", "127.0.0.1:0"], { env: { ANCLA_MASTER_KEY: hexKey() } });
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain("does not decrypt the secrets stored in this data dir");
    expect(r.stdout).not.toContain("listening");
    expect(fileHashes(dir)).toEqual(before);
    const b = open(dir);
    expect(secretsOf(b)).toEqual({ TOKEN: "serve-refusal-secret" });
    closeDeps(b);
  });
});

describe("admin rotate-master-key", () => {
  test("re-seals every secret (also sealed tokens inside other tables' JSON) and swaps the key file", async () => {
    const dir = freshDir();
    const a = open(dir);
    for (let i = 0; i < 25; i++) storeSecret(a, `SECRET_${i}`, `value-${i}-${"x".repeat(i)}`);
    a.db.insert(configVars).values({ id: crypto.randomUUID(), scope: "organization", scopeId: "org-1", name: "PLAIN", value: "enc:v1:not-really-sealed", secret: false, createdAt: "t", updatedAt: "t" }).run();
    // a release snapshot elsewhere keeps sealed values inside JSON: rotation must find them too
    const snapshot = JSON.stringify({ env: [{ name: "S", value: a.secrets.seal("snapshot-secret"), secret: true }] });
    a.db.insert(settings).values({ key: "test_snapshot", value: snapshot, updatedAt: "t" }).run();
    const oldKey = readFileSync(join(dir, "master.key"));
    closeDeps(a);

    const { io, out } = captureIo();
    expect(await runCli(["admin", "rotate-master-key", "--data-dir", dir], io, {}, dir)).toBe(0);
    expect(out.join("\n")).toMatch(/re-encrypted 27 sealed value\(s\)/); // 25 + snapshot + check value
    const newKey = readFileSync(join(dir, "master.key"));
    expect(newKey.equals(oldKey)).toBe(false);
    expect(statSync(join(dir, "master.key")).mode & 0o777).toBe(0o600);
    const kept = readdirSync(dir).find((f) => /^master\.key\.\d+\.old$/.test(f))!;
    expect(readFileSync(join(dir, kept)).equals(oldKey)).toBe(true);

    const b = open(dir);
    const values = secretsOf(b);
    for (let i = 0; i < 25; i++) expect(values[`SECRET_${i}`]).toBe(`value-${i}-${"x".repeat(i)}`);
    expect(values.PLAIN).toBe("enc:v1:not-really-sealed");
    const snap = JSON.parse(b.db.select().from(settings).all().find((s) => s.key === "test_snapshot")!.value);
    expect(b.secrets.open(snap.env[0].value)).toBe("snapshot-secret");
    expect(() => createSecrets(oldKey).open(snap.env[0].value)).toThrow();
    closeDeps(b);
  });

  test("a rotation interrupted after its commit is completed on the next start", async () => {
    const dir = freshDir();
    const a = open(dir);
    storeSecret(a, "TOKEN", "survives-a-crash");
    closeDeps(a);
    expect(await runCli(["admin", "rotate-master-key", "--data-dir", dir], captureIo().io, {}, dir)).toBe(0);
    // put the files back as a crash between commit and rename would have left them
    const old = readdirSync(dir).find((f) => f.endsWith(".old"))!;
    renameSync(join(dir, "master.key"), join(dir, "master.key.new"));
    renameSync(join(dir, old), join(dir, "master.key"));
    const b = open(dir);
    expect(secretsOf(b)).toEqual({ TOKEN: "survives-a-crash" });
    closeDeps(b);
    expect(existsSync(join(dir, "master.key.new"))).toBe(false);
  });

  test("refuses with ANCLA_MASTER_KEY set, and beside a running server; nothing changes", async () => {
    const dir = freshDir();
    const key = hexKey();
    closeDeps(open(dir, key));
    const before = fileHashes(dir);
    const c = captureIo();
    expect(await runCli(["admin", "rotate-master-key", "--data-dir", dir], c.io, { ANCLA_MASTER_KEY: key }, dir)).toBe(2);
    expect(c.err.join("")).toContain("cannot rewrite");
    expect(fileHashes(dir)).toEqual(before);

    const dir2 = freshDir();
    closeDeps(open(dir2));
    const sleeper = Bun.spawn(["sleep", "30"]);
    try {
      writeFileSync(join(dir2, "serve.pid"), String(sleeper.pid));
      const before2 = fileHashes(dir2);
      const d = captureIo();
      expect(await runCli(["admin", "rotate-master-key", "--data-dir", dir2], d.io, {}, dir2)).toBe(5);
      expect(d.err.join("")).toContain(`ancla serve is running on this data dir (pid ${sleeper.pid})`);
      expect(fileHashes(dir2)).toEqual(before2);
    } finally {
      sleeper.kill();
    }
  });
});
