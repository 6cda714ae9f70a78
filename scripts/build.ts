// `bun run build`: generate the embedded-file imports, then compile src/main.ts into ./ancla.
// Each step is a child process with an argument array; the first failure stops the build.
import { existsSync } from "node:fs";
import { join } from "node:path";

const root = join(import.meta.dir, "..");
const bun = process.execPath;

/**
 * Compile flags, shared with the binary test. No .env / bunfig.toml autoloading: `ancla` runs
 * inside users' app checkouts, whose .env files (app secrets, or an ANCLA_API_KEY meant for
 * something else) must never leak into the CLI or the server.
 */
export const COMPILE_ARGS = ["build", "--compile", "--minify", "--bytecode", "--no-compile-autoload-dotenv", "--no-compile-autoload-bunfig", "src/main.ts"];

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

if (import.meta.main) {
  step("generate migrations", [bun, "scripts/gen-migrations.ts"]);
  // the dashboard's asset generator is optional until the dashboard lands
  if (existsSync(join(root, "scripts/gen-assets.ts"))) step("generate dashboard assets", [bun, "scripts/gen-assets.ts"]);
  step("compile ./ancla", [bun, ...COMPILE_ARGS, "--outfile", "ancla"]);
  console.log(`build: wrote ${join(root, "ancla")}`);
}
