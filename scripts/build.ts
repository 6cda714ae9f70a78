// `bun run build`: generate the embedded-file imports, then compile src/main.ts into ./ancla.
// Each step is a child process with an argument array; the first failure stops the build.
// Then profile-guided bytecode layout: the binary runs the way it starts in production (serve on
// an empty data dir, a restart on it, --version) with BUN_BYTECODE_ORDER_OUT, and is compiled again
// with --bytecode-order, which puts the bytecode those runs used together at the front: fewer of
// the executable's pages are read and kept resident (idle RSS ~7 MiB lower). When a recording run
// fails the first binary is kept, and the build says so.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const bun = process.execPath;

/**
 * Compile flags, shared with the binary test. No .env / bunfig.toml autoloading: `ancla` runs
 * inside users' app checkouts, whose .env files (app secrets, or an ANCLA_API_KEY meant for
 * something else) must never leak into the CLI or the server.
 */
export const COMPILE_ARGS = ["build", "--compile", "--minify", "--bytecode", "--format=esm", "--splitting", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", "src/main.ts"];

function step(label: string, argv: string[]): void {
  console.log(`build: ${label}`);
  const started = performance.now();
  const proc = Bun.spawnSync(argv, { cwd: root, stdout: "inherit", stderr: "inherit" });
  if (proc.exitCode !== 0) {
    console.error(`build: ${label} failed (exit ${proc.exitCode})`);
    process.exit(proc.exitCode || 1);
  }
  console.log(`build: ${label} done in ${Math.round(performance.now() - started)} ms`);
}

const RECORD_TIMEOUT_MS = 60_000;

/** Run `ancla serve` until its API and router answer, then stop it (SIGTERM: the order file is written at exit). */
async function recordServe(binary: string, dataDir: string, home: string, orderFile: string): Promise<void> {
  const env: Record<string, string | undefined> = Object.fromEntries(Object.entries(process.env).filter(([k]) => !k.startsWith("ANCLA_")));
  const proc = Bun.spawn([binary, "serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--router", "127.0.0.1:0", "--ssh", "off"], {
    env: { ...env, HOME: home, BUN_BYTECODE_ORDER_OUT: orderFile },
    stdout: "pipe",
    stderr: "ignore",
    stdin: "ignore",
  });
  const timer = setTimeout(() => proc.kill("SIGKILL"), RECORD_TIMEOUT_MS);
  try {
    const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
    const decoder = new TextDecoder();
    let text = "";
    while (!/ancla router listening/.test(text)) {
      const { value, done } = await reader.read();
      if (done) throw new Error(`ancla serve exited before it listened (exit ${await proc.exited})`);
      text += decoder.decode(value, { stream: true });
    }
    const api = /ancla listening on (http:\/\/\S+)/.exec(text)![1]!;
    const health = await fetch(`${api}/api/v1/integrations/health`);
    if (health.status !== 200) throw new Error(`health answered ${health.status}`);
    await Bun.sleep(1000); // the background loops' first rounds
    proc.kill("SIGTERM");
    void reader.cancel();
    if ((await proc.exited) !== 0) throw new Error(`ancla serve exited with ${proc.exitCode}`);
  } finally {
    clearTimeout(timer);
  }
}

/** The order files of a restart, a first start and `--version` (most common start first), or null when a run failed. */
async function recordBytecodeOrder(binary: string, dir: string): Promise<string[] | null> {
  const dataDir = join(dir, "data");
  const files = { first: join(dir, "first.order"), restart: join(dir, "restart.order"), version: join(dir, "version.order") };
  try {
    await recordServe(binary, dataDir, dir, files.first);
    await recordServe(binary, dataDir, dir, files.restart);
    const v = Bun.spawnSync([binary, "--version"], { env: { ...process.env, HOME: dir, BUN_BYTECODE_ORDER_OUT: files.version }, stdout: "ignore", stderr: "ignore" });
    if (v.exitCode !== 0) throw new Error(`ancla --version exited with ${v.exitCode}`);
    const missing = Object.values(files).filter((f) => !existsSync(f));
    if (missing.length) throw new Error(`no bytecode order was written to ${missing.join(", ")}`);
    return [files.restart, files.first, files.version];
  } catch (e) {
    console.warn(`build: recording the bytecode order failed (${(e as Error).message}); keeping ./ancla without it`);
    return null;
  }
}

if (import.meta.main) {
  step("generate migrations", [bun, "scripts/gen-migrations.ts"]);
  // the dashboard's asset generator is optional until the dashboard lands
  if (existsSync(join(root, "scripts/gen-assets.ts"))) step("generate dashboard assets", [bun, "scripts/gen-assets.ts"]);
  step("compile ./ancla", [bun, ...COMPILE_ARGS, "--outfile", "ancla"]);
  if (!process.argv.includes("--no-bytecode-order")) {
    const dir = mkdtempSync(join(tmpdir(), "ancla-bytecode-order-"));
    try {
      console.log("build: record the bytecode order (serve, restart, --version)");
      const order = await recordBytecodeOrder(join(root, "ancla"), dir);
      if (order) step("compile ./ancla with the recorded bytecode order", [bun, ...COMPILE_ARGS, "--bytecode-order", order.join(","), "--outfile", "ancla"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  console.log(`build: wrote ${join(root, "ancla")}`);
}
