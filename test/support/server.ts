// Live-server harness: a real `ancla serve` subprocess on a free loopback port with its own data
// dir and HOME, plus a runner for `ancla <args>` as a subprocess (argument arrays, no shell).
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { Subprocess } from "bun";
import { testBinary } from "./test-binary";

const MAIN = resolve(import.meta.dir, "../../src/main.ts");

/**
 * `ancla …` argv prefix: the binary ANCLA_TEST_BIN names; the source (`bun src/main.ts`) with
 * ANCLA_TEST_SOURCE=1; else this checkout compiled once and shared by all test files
 * (test/support/test-binary.ts), which starts with far less CPU than the source.
 */
export function anclaCommand(): string[] {
  const bin = process.env.ANCLA_TEST_BIN;
  if (bin) return [resolve(bin)];
  if (process.env.ANCLA_TEST_SOURCE === "1") return [process.execPath, MAIN];
  return [testBinary()];
}

/** The parent's environment without any ANCLA_* setting, so tests start from a known state. */
export function cleanEnv(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const env: Record<string, string> = {};
  for (const [k, v] of Object.entries(process.env)) if (!k.startsWith("ANCLA_") && v !== undefined) env[k] = v;
  for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
  return env;
}

export type CliResult = { code: number; stdout: string; stderr: string; json: () => any };
export type CliOptions = { env?: Record<string, string | undefined>; cwd?: string; stdin?: string; home?: string };

/** Run the CLI to completion. `home` isolates ~/.ancla; env replaces nothing else. */
export async function ancla(args: string[], opts: CliOptions = {}): Promise<CliResult> {
  const proc = Bun.spawn([...anclaCommand(), ...args], {
    cwd: opts.cwd ?? tmpdir(),
    env: cleanEnv({ HOME: opts.home, ...opts.env }),
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, stdout, stderr, json: () => JSON.parse(stdout) };
}

export type LiveServer = {
  url: string;
  dataDir: string;
  /** A HOME for CLI runs against this server (its ~/.ancla is empty). */
  home: string;
  adminKey: string;
  adminPassword: string;
  proc: Subprocess;
  /** Everything the server wrote so far. */
  output: () => string;
  /** SIGTERM (or the given signal), wait for exit; returns the exit code. Removes temp dirs unless keep. */
  stop: (opts?: { signal?: NodeJS.Signals; keep?: boolean }) => Promise<number>;
};

export type ServerOptions = {
  dataDir?: string;
  args?: string[];
  env?: Record<string, string>;
  createKey?: boolean;
  /** argv prefix instead of anclaCommand() (reload tests run a wrapper script they can break) */
  command?: string[];
  /** how long to wait for the ready lines (default 60 s: a loaded CI machine must not fail a correct start); a restart that first recovers an interrupted cluster rollout needs longer on a loaded machine */
  startTimeoutMs?: number;
};

/** Collect a stream into `sink` and resolve when `pattern` appears (or the stream ends). */
function watch(stream: ReadableStream<Uint8Array>, sink: { text: string }, pattern: RegExp): Promise<RegExpMatchArray | null> {
  return new Promise((resolveMatch) => {
    const decoder = new TextDecoder();
    const reader = stream.getReader();
    let done = false;
    const pump = async () => {
      for (;;) {
        const { value, done: end } = await reader.read();
        if (end) break;
        sink.text += decoder.decode(value, { stream: true });
        const m = !done && sink.text.match(pattern);
        if (m) (done = true), resolveMatch(m);
      }
      if (!done) resolveMatch(null);
    };
    pump().catch(() => resolveMatch(null));
  });
}

export async function startLiveServer(opts: ServerOptions = {}): Promise<LiveServer> {
  const dataDir = opts.dataDir ?? mkdtempSync(join(tmpdir(), "ancla-live-"));
  const home = mkdtempSync(join(tmpdir(), "ancla-home-"));
  // port 0: the server prints the port it got, so there is no window for another process to take it
  const args = ["serve", "--data-dir", dataDir, "--listen", "127.0.0.1:0", "--router", "127.0.0.1:0", ...(opts.args ?? [])];
  const proc = Bun.spawn([...(opts.command ?? anclaCommand()), ...args], {
    cwd: home,
    // the exec SSH server on a free port (its default 2222 would be shared by parallel tests)
    env: cleanEnv({ HOME: home, ANCLA_SSH: "127.0.0.1:0", ...opts.env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const out = { text: "" };
  const err = { text: "" };
  void watch(proc.stderr as ReadableStream<Uint8Array>, err, /$^/);
  const timeout = new Promise<null>((r) => setTimeout(() => r(null), opts.startTimeoutMs ?? 120_000));
  // ready = the API line and then the router line (printed once workers and app adoption are done)
  const m = await Promise.race([watch(proc.stdout as ReadableStream<Uint8Array>, out, /ancla listening on (http:\/\/\S+)[^]*ancla router listening on/), timeout]);
  if (!m) {
    proc.kill("SIGKILL");
    throw new Error(`ancla serve did not start:\n${out.text}\n${err.text}`);
  }
  const url = m[1]!;
  let adminPassword = "";
  try {
    adminPassword = /password: (\S+)/.exec(readFileSync(join(dataDir, "initial-admin.txt"), "utf8"))?.[1] ?? "";
  } catch {
    // an existing data dir has no fresh initial-admin.txt; callers that reuse one know its users
  }
  let adminKey = "";
  if (opts.createKey !== false) {
    const r = await ancla(["admin", "create-key", "admin", "--data-dir", dataDir, "--name", "test-harness"], { home });
    if (r.code !== 0) throw new Error(`admin create-key failed: ${r.stderr}`);
    adminKey = r.stdout.trim().split("\n").pop()!;
  }
  const stop = async (o: { signal?: NodeJS.Signals; keep?: boolean } = {}) => {
    if (proc.exitCode === null && !proc.killed) proc.kill(o.signal ?? "SIGTERM");
    const code = await Promise.race([proc.exited, new Promise<number>((r) => setTimeout(() => r(-1), 10_000))]);
    if (code === -1) proc.kill("SIGKILL");
    rmSync(home, { recursive: true, force: true });
    if (!o.keep && !opts.dataDir) rmSync(dataDir, { recursive: true, force: true });
    return code;
  };
  return { url, dataDir, home, adminKey, adminPassword, proc, output: () => out.text + err.text, stop };
}
