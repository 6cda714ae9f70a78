// The `ancla` executable the CLI, integration and browser tests spawn: compiled once from this
// checkout with the release flags (scripts/build.ts COMPILE_ARGS) and shared by every test file
// and parallel worker that runs against the same tree. A `bun src/main.ts` spawn transpiles the
// source tree on each start (Bun's runtime transpiler cache only keeps files over 50 KB): ~0.6 s
// more CPU per `ancla serve` start and ~0.15 s more per CLI command than the compiled binary, and
// the suite spawns thousands of them on 2 cores.
//
// The binary lives in $TMPDIR/ancla-test-bin/ under a hash of everything the compile reads
// (src/, the dashboard's dist/web/, package.json, bun.lock, patches/, tsconfig.json, bunfig.toml,
// Bun's version), so an edit to the source makes the next test file compile a fresh one. One
// process compiles under a lock directory while the others wait for the finished file (renamed
// into place, never seen half-written); a lock whose process died is taken over.
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { COMPILE_ARGS } from "../../scripts/build";

const ROOT = resolve(import.meta.dir, "../..");
const CACHE = join(tmpdir(), "ancla-test-bin");
/** How long a test process waits for another one's compile (a loaded machine compiles slowly). */
const WAIT_MS = 600_000;
/** Binaries of other trees older than this are removed when a new one is compiled (each is ~130 MB). */
const KEEP_MS = 6 * 3600_000;

function files(dir: string): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name));
}

/** sha256 over the paths and contents of what `bun build --compile src/main.ts` reads. */
export function treeHash(): string {
  const h = new Bun.CryptoHasher("sha256");
  h.update(`${Bun.version}\0${COMPILE_ARGS.join(" ")}\0`);
  const inputs = [...files(join(ROOT, "src")), ...files(join(ROOT, "dist", "web")), ...files(join(ROOT, "patches"))];
  for (const f of ["package.json", "bun.lock", "tsconfig.json", "bunfig.toml"]) if (existsSync(join(ROOT, f))) inputs.push(join(ROOT, f));
  for (const f of inputs.sort()) {
    h.update(`${f.slice(ROOT.length)}\0`);
    h.update(readFileSync(f));
    h.update("\0");
  }
  return h.digest("hex").slice(0, 20);
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

/** Remove binaries of other trees that nobody compiled for hours. */
function prune(keep: string): void {
  for (const name of readdirSync(CACHE)) {
    const p = join(CACHE, name);
    if (p === keep || !name.startsWith("ancla-") || name.endsWith(".lock")) continue;
    try {
      if (Date.now() - statSync(p).mtimeMs > KEEP_MS) rmSync(p, { force: true });
    } catch {}
  }
}

let memo: string | undefined;

/** Path of the compiled `ancla` for this checkout's current tree, compiling it when missing. */
export function testBinary(): string {
  if (memo && existsSync(memo)) return memo;
  const bin = join(CACHE, `ancla-${treeHash()}`);
  if (existsSync(bin)) return (memo = bin);
  mkdirSync(CACHE, { recursive: true });
  const lock = `${bin}.lock`;
  const deadline = Date.now() + WAIT_MS;
  for (;;) {
    if (existsSync(bin)) return (memo = bin);
    try {
      mkdirSync(lock);
      writeFileSync(join(lock, "pid"), String(process.pid));
      break;
    } catch {}
    // another process compiles; take the lock over when that process is gone
    let owner = 0;
    try {
      owner = Number(readFileSync(join(lock, "pid"), "utf8"));
    } catch {}
    if (owner > 0 && !alive(owner)) rmSync(lock, { recursive: true, force: true });
    else if (!owner && existsSync(lock) && Date.now() - statSync(lock).mtimeMs > 30_000) rmSync(lock, { recursive: true, force: true });
    if (Date.now() > deadline) throw new Error(`waited ${WAIT_MS / 1000} s for another test process to compile ${bin} (lock ${lock})`);
    Bun.sleepSync(250);
  }
  try {
    if (existsSync(bin)) return (memo = bin);
    const tmp = `${bin}.tmp-${process.pid}`;
    const built = Bun.spawnSync([process.execPath, ...COMPILE_ARGS, "--outfile", tmp], { cwd: ROOT, stdout: "pipe", stderr: "pipe" });
    if (built.exitCode !== 0) {
      rmSync(tmp, { force: true });
      throw new Error(`compiling the test binary failed (set ANCLA_TEST_SOURCE=1 to run from source):\n${built.stderr.toString()}`);
    }
    renameSync(tmp, bin);
    prune(bin);
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return (memo = bin);
}
