// Every test file sets its own per-test timeout. Plain `bun test` gives each test 5 s and a
// preload's setDefaultTimeout reaches only the first file of a serial run, so a file that
// forgets it passes on a quiet machine and fails on a loaded one (or when run alone). Nor does any
// file wait with `.resolves` / `.rejects`: in Bun they reorder setImmediate callbacks, which broke
// Playwright's protocol under load (test/support/settle.ts).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";

setDefaultTimeout(120_000);
const ROOT = resolve(import.meta.dir, "..");

describe("test files", () => {
  test("every *.test.ts under test/ calls setDefaultTimeout(…) from bun:test at top level", () => {
    const files = [...new Bun.Glob("**/*.test.ts").scanSync({ cwd: ROOT })];
    expect(files.length).toBeGreaterThan(100);
    const missing = files.filter((f) => !/^setDefaultTimeout\(\s*\d[\d_]*\s*\);?/m.test(readFileSync(join(ROOT, f), "utf8"))).sort();
    expect(missing).toEqual([]);
  });

  test("no test file awaits with the .resolves / .rejects matchers (test/support/settle.ts says why)", () => {
    const files = [...new Bun.Glob("**/*.ts").scanSync({ cwd: ROOT })].filter((f) => f !== "unit/test-timeouts.test.ts");
    const using = files.filter((f) => /\.(resolves|rejects)\s*\.\s*[a-zA-Z]/.test(readFileSync(join(ROOT, f), "utf8"))).sort();
    expect(using).toEqual([]);
  });
});
