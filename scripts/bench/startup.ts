// Start-up and footprint of the compiled binary, side by side with Bun's own floor in one run:
//   serve       spawn → first 200 on /api/v1/integrations/health: ancla on an empty data dir (first
//               start), on a data dir with 100 services (restart), and a bare compiled Bun.serve;
//               wall time and the process's own CPU time (/proc/<pid>/stat) at that moment, which a
//               loaded machine inflates much less than the wall time; then on, the first 200 of
//               /api/v1/auth/session, a route of the app itself (the health probe is answered by the
//               listener's front before the app is built: src/server.ts)
//   version     `ancla --version`: wall, CPU and peak RSS (GNU time), next to a compiled `console.log`
//   idle        RSS 5 s after start (ancla with 100 services, bare): anonymous and file-backed pages
//               from /proc/<pid>/smaps_rollup, the file-backed ones split by the executable's mappings
//               (/proc/<pid>/smaps: machine code, read-only data, the writable segment with the bundle)
//   binary      the size of ./ancla and of the bare binary (Bun's runtime alone)
// Rounds alternate the subjects so a change in the machine's load hits them alike.
//
// --base <binary>: the same rounds also start that binary (e.g. built from the commit before a change)
// on the same data dirs, printed next to the new one.
//
// Usage: bun run build && bun scripts/bench/startup.ts [--rounds 7] [--only serve,version,idle] [--base <binary>]
import { existsSync, readFileSync, readlinkSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { COMPILE_ARGS } from "../build";
import { anclaArgv, BINARY, fmt, removeDir, seed, tempDir } from "./lib";

const arg = (name: string, fallback: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const ROUNDS = Math.max(3, Number(arg("rounds", "7")));
const ONLY = new Set(arg("only", "serve,version,idle").split(","));
const BASE = arg("base", "");
const HEALTH = "/api/v1/integrations/health";
const APP_ROUTE = "/api/v1/auth/session";
const TICK_MS = 1000 / 100; // USER_HZ: /proc/<pid>/stat counts CPU time in 1/100 s

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length ? s[Math.floor((s.length - 1) / 2)]! : NaN;
};

/** utime + stime of a live process, in ms. */
function cpuMs(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) * TICK_MS;
}

type Footprint = { rss: number; anon: number; file: number; code: number; rodata: number; bundle: number };

/**
 * Rss, Anonymous and the rest (file-backed) in MiB, the file-backed part split by the executable's
 * own mappings (/proc/<pid>/smaps): its machine code (r-x: Bun's runtime, JSC, SQLite…), its
 * read-only data (r--) and the file-backed part of its writable segment (rw-, which holds the
 * embedded bundle, `.bun`: the app's bytecode and sources); the remainder is shared libraries.
 */
function smaps(pid: number): Footprint {
  const text = readFileSync(`/proc/${pid}/smaps_rollup`, "utf8");
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, "m").exec(text)?.[1] ?? NaN) / 1024;
  const rss = kb("Rss");
  const anon = kb("Anonymous");
  const exe = readlinkSync(`/proc/${pid}/exe`);
  const own = { code: 0, rodata: 0, bundle: 0 };
  let perms = "";
  let mine = false;
  for (const line of readFileSync(`/proc/${pid}/smaps`, "utf8").split("\n")) {
    const head = /^[0-9a-f]+-[0-9a-f]+ (\S+) \S+ \S+ \d+\s*(.*)$/.exec(line);
    if (head) {
      perms = head[1]!;
      mine = head[2] === exe;
      continue;
    }
    if (!mine) continue;
    const [key, value] = line.split(/:\s+/);
    const mib = Number.parseInt(value ?? "", 10) / 1024;
    if (key === "Rss") {
      if (perms.startsWith("r-x")) own.code += mib;
      else if (perms.startsWith("r--")) own.rodata += mib;
      else own.bundle += mib;
    } else if (key === "Anonymous" && perms.startsWith("rw")) own.bundle -= mib; // pages written since: counted as anonymous
  }
  return { rss, anon, file: rss - anon, ...own };
}

function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

type Sample = { ms: number; cpu: number };

/**
 * Spawn, poll HEALTH every 2 ms until 200; with `app`, then poll APP_ROUTE the same way (that
 * sample is `app`); then `hold` (idle measurement) and stop.
 */
async function timedStart(argv: (port: number) => string[], home: string, hold?: (pid: number) => Promise<void>, app = false): Promise<Sample & { app?: Sample }> {
  const port = freePort();
  const t0 = performance.now();
  const proc = Bun.spawn(argv(port), { stdout: "ignore", stderr: "ignore", stdin: "ignore", env: { ...process.env, HOME: home } });
  const first200 = async (path: string): Promise<Sample> => {
    for (;;) {
      try {
        const res = await fetch(`http://127.0.0.1:${port}${path}`);
        await res.arrayBuffer();
        if (res.status === 200) return { ms: performance.now() - t0, cpu: cpuMs(proc.pid) };
      } catch {
        // not listening yet
      }
      if (proc.exitCode !== null) throw new Error(`${argv(port).join(" ")} exited with ${proc.exitCode}`);
      if (performance.now() - t0 > 30_000) throw new Error(`no 200 on ${path} within 30 s`);
      await Bun.sleep(2);
    }
  };
  try {
    const sample: Sample & { app?: Sample } = await first200(HEALTH);
    if (app) sample.app = await first200(APP_ROUTE);
    await hold?.(proc.pid);
    return sample;
  } finally {
    proc.kill("SIGTERM");
    await proc.exited;
  }
}

const GNU_TIME = "/usr/bin/time";

/**
 * Run to completion: wall ms, CPU ms and peak RSS (MiB). The peak comes from GNU time, which forks
 * a small process first: a child spawned straight from this (large) process starts its ru_maxrss
 * from this process's RSS.
 */
async function timedRun(argv: string[], home: string): Promise<Sample & { rss: number; out: string }> {
  const viaTime = existsSync(GNU_TIME);
  const t0 = performance.now();
  const proc = Bun.spawn(viaTime ? [GNU_TIME, "-f", "maxrss-kb %M", ...argv] : argv, { stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, HOME: home } });
  const [out, err] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text()]);
  await proc.exited;
  const ms = performance.now() - t0;
  const usage = proc.resourceUsage()!;
  const kb = Number(/maxrss-kb (\d+)/.exec(err)?.[1] ?? NaN);
  return { ms, cpu: Number(usage.cpuTime.total) / 1000, rss: kb / 1024, out: out.trim() };
}

function compile(entry: string, outfile: string): void {
  const b = Bun.spawnSync([process.execPath, ...COMPILE_ARGS.filter((a) => !a.endsWith(".ts")), entry, "--outfile", outfile], { stdout: "ignore", stderr: "inherit" });
  if (b.exitCode !== 0) throw new Error(`could not compile ${entry}`);
}

const row = (label: string, xs: Sample[], extra = "") =>
  console.log(`  ${label.padEnd(40)} ${fmt(median(xs.map((x) => x.ms)), 0).padStart(6)} ms   (max ${fmt(Math.max(...xs.map((x) => x.ms)), 0).padStart(5)})   CPU ${fmt(median(xs.map((x) => x.cpu)), 0).padStart(5)} ms${extra}`);

const compiled = existsSync(BINARY);
if (!compiled) console.log("no ./ancla: run `bun run build` first (measuring `bun src/main.ts`, which also transpiles)");
const work = tempDir("ancla-bench-startup-");
const home = join(work, "home");
const bareBin = join(work, "bare");
const helloBin = join(work, "hello");
let seeded: string | undefined;
try {
  console.log("compiling the baselines with the binary's flags …");
  compile(join(import.meta.dir, "bare.ts"), bareBin);
  writeFileSync(join(work, "hello.ts"), 'console.log("hello");\n');
  compile(join(work, "hello.ts"), helloBin);
  writeFileSync(join(work, "bodies.json"), JSON.stringify({ [HEALTH]: '{"status":"ok"}' }));
  console.log("seeding 100 services …");
  seeded = (await seed({ services: 100, configPerScope: 10, deployments: 60 })).dataDir;
  const ancla = anclaArgv().argv;
  const serveWith = (binary: string[]) => (dir: string) => (port: number) => [...binary, "serve", "--data-dir", dir, "--listen", `127.0.0.1:${port}`, "--router", "127.0.0.1:0", "--ssh", "127.0.0.1:0"];
  const serve = serveWith(ancla);
  const serveBase = serveWith([BASE]);
  if (BASE) console.log(`base: ${BASE}; new: ${anclaArgv().label}`);
  const bare = (port: number) => [bareBin, join(work, "bodies.json"), String(port)];

  if (ONLY.has("serve")) {
    type Subject = { first: (Sample & { app?: Sample })[]; restart: (Sample & { app?: Sample })[] };
    const runs: { label: string; serve: typeof serve; s: Subject }[] = [
      ...(BASE ? [{ label: "base", serve: serveBase, s: { first: [], restart: [] } }] : []),
      { label: BASE ? "new" : "ancla", serve, s: { first: [], restart: [] } },
    ];
    const baseline: Sample[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      for (const { serve: start, s } of runs) {
        const fresh = tempDir("ancla-bench-fresh-");
        s.first.push(await timedStart(start(fresh), home, undefined, true));
        removeDir(fresh);
        s.restart.push(await timedStart(start(seeded), home, undefined, true));
      }
      baseline.push(await timedStart(bare, home));
    }
    console.log(`\nstart → first 200 on ${HEALTH} (answered by the listener) and then on ${APP_ROUTE} (by the app), median of ${ROUNDS} (${compiled ? "compiled" : "from source"}; CPU: the server's own at that moment)`);
    for (const { label, s } of runs) {
      row(`${label} serve, empty data dir (first start)`, s.first);
      row(`  … ${APP_ROUTE}`, s.first.map((x) => x.app!));
      row(`${label} serve, 100 services (restart)`, s.restart);
      row(`  … ${APP_ROUTE}`, s.restart.map((x) => x.app!));
    }
    row("bare compiled Bun.serve", baseline);
    const { first, restart } = runs[runs.length - 1]!.s;
    const worst = Math.max(median(first.map((x) => x.ms)), median(restart.map((x) => x.ms)));
    console.log(`target ≤ 100 ms → ${worst <= 100 ? "met" : "NOT met"} (worst median ${fmt(worst, 0)} ms)`);
  }

  if (ONLY.has("version")) {
    const version: (Sample & { rss: number })[] = [];
    const hello: (Sample & { rss: number })[] = [];
    for (let i = 0; i < ROUNDS; i++) {
      const v = await timedRun([...ancla, "--version"], home);
      if (!v.out.startsWith("ancla ")) throw new Error(`ancla --version printed ${JSON.stringify(v.out)}`);
      version.push(v);
      hello.push(await timedRun([helloBin], home));
    }
    const peak = (xs: { rss: number }[]) => `   peak RSS ${fmt(median(xs.map((x) => x.rss))).padStart(5)} MiB`;
    console.log(`\nrun to exit, median of ${ROUNDS}`);
    row("ancla --version", version, peak(version));
    row("compiled console.log (Bun's floor)", hello, peak(hello));
  }

  if (ONLY.has("idle")) {
    const take = (into: Footprint[]) => async (pid: number) => {
      await Bun.sleep(5000);
      into.push(smaps(pid));
    };
    const a: Footprint[] = [];
    const b: Footprint[] = [];
    const o: Footprint[] = [];
    for (let i = 0; i < Math.min(ROUNDS, 3); i++) {
      if (BASE) await timedStart(serveBase(seeded), home, take(o));
      await timedStart(serve(seeded), home, take(a));
      await timedStart(bare, home, take(b));
    }
    const m = (xs: Footprint[], k: keyof Footprint) => fmt(median(xs.map((x) => x[k]))).padStart(6);
    const line = (label: string, xs: Footprint[]) => {
      console.log(`  ${label.padEnd(40)} RSS ${m(xs, "rss")} MiB   anonymous ${m(xs, "anon")} MiB   file-backed ${m(xs, "file")} MiB`);
      console.log(`  ${"".padEnd(40)}     file-backed: executable's code ${m(xs, "code")}, read-only data ${m(xs, "rodata")}, bundle and data ${m(xs, "bundle")} MiB`);
    };
    console.log(`\nidle 5 s after the first 200 (smaps_rollup), median of ${a.length}`);
    if (BASE) line("base serve, 100 services", o);
    line(`${BASE ? "new" : "ancla"} serve, 100 services`, a);
    line("bare compiled Bun.serve", b);
    console.log(`target idle RSS ≤ 60 MiB → ${median(a.map((x) => x.rss)) <= 60 ? "met" : "NOT met"}`);
  }

  const mib = (f: string) => fmt(statSync(f).size / 1024 / 1024);
  if (compiled) console.log(`\nbinary: ./ancla ${mib(BINARY)} MiB; bare compiled Bun.serve ${mib(bareBin)} MiB (Bun's runtime)`);
} finally {
  if (seeded) removeDir(seeded);
  removeDir(work);
}
