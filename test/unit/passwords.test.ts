// Password hashing cost: the server's Deps hash with argon2id at its defaults whatever the config
// says; only the test harness's own Deps use the cheap cost, and its hashes still verify anywhere.
import { afterEach, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { serveConfigSchema } from "../../src/config";
import { closeDeps, createDeps, type Deps } from "../../src/deps";
import { silentLogger } from "../../src/lib/logger";
import { argon2idHasher } from "../../src/lib/passwords";
import { cheapPasswords, testApp } from "../support/app";

setDefaultTimeout(120_000);

let cleanup: (() => void)[] = [];
afterEach(() => {
  for (const c of cleanup.splice(0)) c();
});

function serverDeps(extra: Record<string, unknown> = {}): Deps {
  const dataDir = mkdtempSync(join(tmpdir(), "ancla-pw-"));
  // what `ancla serve` and the CLI's server commands do: createDeps(config), no overrides
  const deps = createDeps(serveConfigSchema.parse({ dataDir, ...extra }));
  cleanup.push(() => (closeDeps(deps), rmSync(dataDir, { recursive: true, force: true })));
  return deps;
}

test("a server's Deps hash with argon2id at 64 MiB, two passes, whatever else the config holds", async () => {
  const deps = serverDeps({ passwords: cheapPasswords, logLevel: "debug" });
  expect(deps.passwords).toBe(argon2idHasher);
  expect(await deps.passwords.hash("correct horse")).toMatch(/^\$argon2id\$v=19\$m=65536,t=2,p=1\$/);
});

test("the test harness hashes cheaply, and its hashes verify with the server's hasher (cost is read from the hash)", async () => {
  const t = await testApp();
  cleanup.push(t.close);
  const u = await t.user("cheap");
  const row = t.deps.sqlite.query("select password_hash as h from users where id = ?").get(u.id) as { h: string };
  expect(row.h).toMatch(/^\$argon2id\$v=19\$m=8,t=1,p=1\$/);
  expect(await argon2idHasher.verify("password-cheap", row.h)).toBe(true);
  expect(await argon2idHasher.verify("password-other", row.h)).toBe(false);
});
