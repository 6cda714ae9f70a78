// The dashboard takes the API's shapes from the server's zod models (web/types.ts) as types only:
// a value import of src/ would put server code (zod, drizzle) into the browser bundle, and a view
// declaring its own copy of a shared shape would drift from the server unnoticed.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join, relative } from "node:path";

setDefaultTimeout(120_000);

const WEB = join(import.meta.dir, "../../web");
const files = (dir: string): string[] =>
  readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith(".ts") ? [p] : [];
  });

describe("dashboard types", () => {
  test("web/ reaches src/ only through type-only imports", () => {
    const values: string[] = [];
    for (const f of files(WEB)) {
      for (const m of readFileSync(f, "utf8").matchAll(/^(import|export)\s+(type\s+)?[^;]*?from\s+"([^"]+)"/gms)) {
        if (m[3]!.includes("/src/") && !m[2]) values.push(`${relative(WEB, f)}: ${m[0].split("\n")[0]}`);
      }
    }
    expect(values).toEqual([]);
  });

  test("no view declares its own copy of a shape web/types.ts exports", () => {
    const shared = [...readFileSync(join(WEB, "types.ts"), "utf8").matchAll(/export type \{([^}]*)\}/g)].flatMap((m) => m[1]!.split(",").map((n) => n.trim().split(/\s+as\s+/).at(-1)!));
    expect(shared).toContain("ServiceDetail");
    const copies: string[] = [];
    for (const f of files(WEB)) {
      for (const m of readFileSync(f, "utf8").matchAll(/^(?:export )?type (\w+)\s*=/gm)) if (shared.includes(m[1]!)) copies.push(`${relative(WEB, f)}: ${m[1]}`);
    }
    expect(copies).toEqual([]);
  });
});
