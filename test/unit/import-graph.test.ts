// The structure of src/ as a test: reads every import (runtime and type-only) and fails on an
// edge that runs the wrong way or on a cycle between parts. src/ARCHITECTURE.md explains the rules.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";

setDefaultTimeout(120_000);

const SRC = resolve(import.meta.dir, "../../src");

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) return sourceFiles(path);
    return /\.ts$/.test(name) && !name.endsWith(".d.ts") ? [path] : [];
  });
}

/** Relative import specifiers of a file, type-only ones included (they couple the code too). */
function importsOf(source: string): string[] {
  const specs: string[] = [];
  const re = /(?:^|[\n;])\s*(?:import|export)\s+(?:type\s+)?(?:[^'"`;]*?\sfrom\s+)?["']([^"']+)["']|import\(\s*["']([^"']+)["']\s*\)/g;
  for (const m of source.matchAll(re)) specs.push((m[1] ?? m[2])!);
  return specs.filter((s) => s.startsWith("."));
}

function resolveImport(from: string, spec: string): string | null {
  const base = resolve(dirname(from), spec);
  for (const candidate of [base, `${base}.ts`, join(base, "index.ts")]) if (existsSync(candidate) && statSync(candidate).isFile()) return candidate;
  return null;
}

/** A part: a feature module (modules/<f>), a target (targets/<t>), or a top-level file or folder. */
export function partOf(file: string): string {
  const rel = relative(SRC, file).split("/");
  if ((rel[0] === "modules" || rel[0] === "targets") && rel.length > 2) return `${rel[0]}/${rel[1]}`;
  return rel.length > 1 ? `${rel[0]}/` : rel[0]!.replace(/\.ts$/, "");
}

type Edge = { from: string; to: string; file: string; spec: string; path: string };
const files = sourceFiles(SRC);
const edges: Edge[] = [];
for (const file of files) {
  for (const spec of importsOf(readFileSync(file, "utf8"))) {
    const target = resolveImport(file, spec);
    if (!target || !target.startsWith(SRC + "/")) continue;
    const from = partOf(file);
    const to = partOf(target);
    if (from !== to) edges.push({ from, to, file: relative(SRC, file), spec, path: relative(SRC, target) });
  }
}

const isModule = (p: string) => p.startsWith("modules/");
const isTarget = (p: string) => p.startsWith("targets/");
// what a feature module may use of the target layer: the interface, and the local image builder
// (images are built by the local Docker engine whatever an environment deploys to)
const TARGET_ENTRIES = new Set(["targets/target.ts", "targets/docker/build.ts"]);
// what each layer may never import; the layers are listed in src/ARCHITECTURE.md
const forbidden: [string, (e: Edge) => boolean][] = [
  ["a feature module imports the CLI", (e) => isModule(e.from) && e.to === "cli/"],
  ["a feature module imports the server or app wiring", (e) => isModule(e.from) && ["server", "app", "main"].includes(e.to)],
  ["lib/ imports anything but lib/ and errors", (e) => e.from === "lib/" && e.to !== "lib/" && e.to !== "errors"],
  ["a target imports a feature module, jobs or the router", (e) => isTarget(e.from) && (isModule(e.to) || e.to === "jobs/" || e.to === "router/")],
  ["a feature module reaches into a target (only targets/target.ts and targets/docker/build.ts)", (e) => isModule(e.from) && isTarget(e.to) && !TARGET_ENTRIES.has(e.path)],
  ["a feature module imports the wiring (modules/wiring.ts sits above every module)", (e) => isModule(e.from) && e.from !== "modules/" && e.to === "modules/"],
  ["the router imports a feature module, a target or jobs", (e) => e.from === "router/" && (isModule(e.to) || isTarget(e.to) || e.to === "jobs/")],
  ["jobs/ imports a feature module", (e) => e.from === "jobs/" && isModule(e.to)],
  ["db/ imports a feature module", (e) => e.from === "db/" && (isModule(e.to) || isTarget(e.to))],
  ["the composition root imports a feature module", (e) => e.from === "deps" && isModule(e.to)],
  ["the server imports the CLI", (e) => ["server", "app", "deps"].includes(e.from) && e.to === "cli/"],
];

/** Strongly connected components with more than one part (Tarjan). */
function cycles(): string[][] {
  const next = new Map<string, Set<string>>();
  for (const e of edges) (next.get(e.from) ?? next.set(e.from, new Set()).get(e.from)!).add(e.to);
  const index = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const found: string[][] = [];
  let counter = 0;
  const visit = (v: string) => {
    index.set(v, counter);
    low.set(v, counter++);
    stack.push(v);
    onStack.add(v);
    for (const w of next.get(v) ?? []) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, index.get(w)!));
    }
    if (low.get(v) === index.get(v)) {
      const component: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of new Set(edges.flatMap((e) => [e.from, e.to]))) if (!index.has(v)) visit(v);
  return found;
}

describe("import graph of src/", () => {
  test("the reader sees the imports (guards the guard)", () => {
    expect(files.length).toBeGreaterThan(50);
    expect(edges.some((e) => e.from === "app" && isModule(e.to))).toBe(true);
    expect(edges.some((e) => isModule(e.from) && e.path === "targets/target.ts")).toBe(true);
    expect(importsOf(`import type { A } from "./a";\nexport { b } from "../b";\nconst c = await import("./c");`)).toEqual(["./a", "../b", "./c"]);
  });

  for (const [rule, matches] of forbidden) {
    test(`no edge where ${rule}`, () => {
      expect(edges.filter(matches).map((e) => `${e.file} → ${e.spec}`)).toEqual([]);
    });
  }

  test("no cycle between parts (feature modules, targets, top-level folders and files)", () => {
    const found = cycles().map((c) => {
      const inCycle = new Set(c);
      return `${c.join(" ↔ ")}: ${edges.filter((e) => inCycle.has(e.from) && inCycle.has(e.to)).map((e) => `${e.file} → ${e.spec}`).join(", ")}`;
    });
    expect(found).toEqual([]);
  });
});
