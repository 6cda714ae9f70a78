// The spool files volume archives pass through (modules/exec/spool.ts): at most MAX_SPOOLS at once
// per data dir (429 past that), private, removed once; a reader follows a file while it is written
// and removes it when it ends or is cancelled, also while its opening or a read is under way.
import { afterAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { appendFileSync, existsSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { followFile, MAX_SPOOLS, spoolPath } from "../../src/modules/exec/spool";
import { AppError } from "../../src/errors";
import { rejectionOf } from "../support/settle";

setDefaultTimeout(60_000);

const dirs: string[] = [];
const dataDir = () => {
  const d = mkdtempSync(join(tmpdir(), "ancla-spool-"));
  dirs.push(d);
  return d;
};
afterAll(() => dirs.forEach((d) => rmSync(d, { recursive: true, force: true })));

describe("spool files", () => {
  test(`at most ${MAX_SPOOLS} per data dir: the next is a 429 until one is removed; the directory is private`, () => {
    const dir = dataDir();
    const held = Array.from({ length: MAX_SPOOLS }, () => spoolPath(dir, "backup"));
    expect(statSync(join(dir, "spool")).mode & 0o777).toBe(0o700);
    let refused: unknown = null;
    try {
      spoolPath(dir, "restore");
    } catch (e) {
      refused = e;
    }
    expect(refused).toBeInstanceOf(AppError);
    expect((refused as AppError).status).toBe(429);
    // another server's data dir has its own places
    spoolPath(dataDir(), "restore").remove();
    held[0]!.remove();
    held[0]!.remove(); // once: a second call frees nothing more
    const next = spoolPath(dir, "restore");
    expect(() => spoolPath(dir, "restore")).toThrow(AppError);
    next.remove();
    held.slice(1).forEach((s) => s.remove());
  });

  test("a reader follows the file while it is written, ends after the last byte, and removes it", async () => {
    const spool = spoolPath(dataDir(), "backup");
    writeFileSync(spool.path, "first ");
    let finish!: () => void;
    const written = new Promise<void>((r) => (finish = r));
    const reading = new Response(followFile(spool, written)).text();
    await Bun.sleep(100);
    appendFileSync(spool.path, "second");
    finish();
    expect(await reading).toBe("first second");
    expect(existsSync(spool.path)).toBe(false);
  });

  test("a writer's failure ends the stream with its error; a cancel at any moment closes the file once and removes it", async () => {
    const failing = spoolPath(dataDir(), "backup");
    writeFileSync(failing.path, "partial");
    expect((await rejectionOf(new Response(followFile(failing, Promise.reject(new Error("engine went away")))).text())).message).toContain("engine went away");
    expect(existsSync(failing.path)).toBe(false);
    for (const waitMs of [0, 1, 30]) {
      const spool = spoolPath(dataDir(), "backup");
      writeFileSync(spool.path, "x".repeat(1024 * 1024));
      const reader = followFile(spool, new Promise(() => {})).getReader(); // a writer that never ends
      const first = reader.read();
      if (waitMs) await Bun.sleep(waitMs);
      await reader.cancel();
      await first.catch(() => {});
      expect(existsSync(spool.path)).toBe(false);
    }
    Bun.gc(true); // a handle left open would be closed here, with an error of its own
    await Bun.sleep(50);
  });
});
