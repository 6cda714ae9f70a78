// The data dir is private (dir 0700, every file 0600, looser modes tightened with a warning), and
// the offline admin commands never create a database where there is none.
import { afterEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, existsSync, mkdirSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ancla, startLiveServer } from "../support/server";

// live servers and a dozen CLI subprocesses
setDefaultTimeout(300_000);

const cleanup: (() => Promise<unknown> | void)[] = [];
afterEach(async () => {
  while (cleanup.length) await cleanup.pop()!();
});

const tempDir = (prefix: string) => {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  cleanup.push(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
};

const modeOf = (path: string) => statSync(path).mode & 0o777;
/** Every entry of the data dir with its mode, e.g. {"ancla.db": 0o600, "builds": 0o700}. */
const modes = (dir: string) => Object.fromEntries(readdirSync(dir).map((n) => [n, modeOf(join(dir, n))]));

describe("data dir permissions", () => {
  test("a first start creates the dir 0700 and every file in it 0600 (ancla.db, -wal, -shm, master.key, pid, lock)", async () => {
    const root = tempDir("ancla-modes-");
    const dataDir = join(root, "server");
    const s = await startLiveServer({ dataDir }); // also writes through `admin create-key`
    cleanup.push(() => s.stop());
    expect(modeOf(dataDir)).toBe(0o700);
    const files = modes(dataDir);
    for (const name of ["ancla.db", "ancla.db-wal", "ancla.db-shm", "master.key", "initial-admin.txt", "serve.pid", "serve.lock"]) {
      expect([name, files[name]]).toEqual([name, 0o600]);
    }
    for (const [name, mode] of Object.entries(files)) expect([name, mode & 0o077]).toEqual([name, 0]);
  });

  test("an existing data dir with looser modes is tightened on start, with a warning naming each change", async () => {
    const dataDir = tempDir("ancla-loose-");
    const s = await startLiveServer({ dataDir, createKey: false });
    expect(await s.stop({ keep: true })).toBe(0);
    chmodSync(dataDir, 0o755);
    chmodSync(join(dataDir, "ancla.db"), 0o644);
    chmodSync(join(dataDir, "master.key"), 0o640);
    mkdirSync(join(dataDir, "contexts"), { mode: 0o755 });
    chmodSync(join(dataDir, "contexts"), 0o755);
    const t = await startLiveServer({ dataDir, createKey: false });
    cleanup.push(() => t.stop());
    expect(modeOf(dataDir)).toBe(0o700);
    expect(modeOf(join(dataDir, "ancla.db"))).toBe(0o600);
    expect(modeOf(join(dataDir, "master.key"))).toBe(0o600);
    expect(modeOf(join(dataDir, "contexts"))).toBe(0o700);
    const warning = t.output().split("\n").find((l) => l.includes("tightened data dir permissions"));
    expect(warning).toContain(" warn ");
    expect(warning).toContain(`${dataDir} (0755 → 0700)`);
    expect(warning).toContain(`${join(dataDir, "ancla.db")} (0644 → 0600)`);
    expect(warning).toContain(`${join(dataDir, "master.key")} (0640 → 0600)`);
    expect(warning).toContain(`${join(dataDir, "contexts")} (0755 → 0700)`);
  });
});

const OFFLINE_COMMANDS = [
  ["admin", "create-key", "admin"],
  ["admin", "create-user", "carol", "carol@example.test"],
  ["admin", "reset-password", "admin"],
  ["admin", "rotate-master-key"],
  ["migrate"],
];

describe("admin and offline commands on a data dir without a database", () => {
  test("a missing data dir: each command exits 4 naming the path it looked at, and creates nothing", async () => {
    const home = tempDir("ancla-home-");
    const dataDir = join(home, "typo", "server");
    const backup = join(home, "snap.db");
    for (const cmd of [...OFFLINE_COMMANDS, ["backup", backup]]) {
      const r = await ancla([...cmd, "--data-dir", dataDir], { home });
      expect([cmd, r.code]).toEqual([cmd, 4]);
      expect(r.stderr).toContain(join(dataDir, "ancla.db"));
      expect(existsSync(join(home, "typo"))).toBe(false);
      expect(existsSync(backup)).toBe(false);
    }
  });

  test("an existing empty dir, or an empty ancla.db: exit 4, nothing written (no database, no master.key)", async () => {
    const home = tempDir("ancla-home-");
    const empty = join(home, "empty");
    mkdirSync(empty);
    const hollow = join(home, "hollow");
    mkdirSync(hollow);
    writeFileSync(join(hollow, "ancla.db"), "");
    for (const dataDir of [empty, hollow]) {
      const before = readdirSync(dataDir).sort();
      for (const cmd of OFFLINE_COMMANDS) {
        const r = await ancla([...cmd, "--data-dir", dataDir], { home });
        expect([dataDir, cmd, r.code]).toEqual([dataDir, cmd, 4]);
        expect(r.stderr).toContain(join(dataDir, "ancla.db"));
      }
      expect(readdirSync(dataDir).sort()).toEqual(before);
    }
    expect(statSync(join(hollow, "ancla.db")).size).toBe(0);
  });

  test("ANCLA_DATA_DIR pointing nowhere is reported the same way; a real data dir still works", async () => {
    const home = tempDir("ancla-home-");
    const nowhere = join(home, "nowhere");
    const r = await ancla(["admin", "create-key", "admin"], { home, env: { ANCLA_DATA_DIR: nowhere } });
    expect(r.code).toBe(4);
    expect(r.stderr).toContain(join(nowhere, "ancla.db"));
    expect(existsSync(nowhere)).toBe(false);
    const s = await startLiveServer({ createKey: false });
    cleanup.push(() => s.stop());
    const ok = await ancla(["admin", "create-key", "admin"], { home, env: { ANCLA_DATA_DIR: s.dataDir } });
    expect(ok.code).toBe(0);
    expect(ok.stdout.trimEnd().split("\n").pop()).toMatch(/^ancla_[A-Za-z0-9]{40}$/);
  });
});
