// The API under wrk, side by side with a bare Bun.serve answering the same bytes, in one run:
//   throughput  authenticated GET of the organizations list, one organization, the applications of
//               a project (100 services), an environment's deployments (latest 50) and a service's
//               resolved config (40 variables over four scopes), plus the unauthenticated health
//               route as the floor; p50/p99; wrk's own CPU and the server's CPU per request
//   memory      idle RSS after start, then 30 s after a 20 s load of 200 connections over the routes
//   startup     start → first 200, on an empty data dir (first start) and on the seeded one (restart)
//   binary      size of the compiled executable
// Usage: bun scripts/bench/api.ts [--seconds 5] [--rounds 3] [--connections 32] [--only throughput,memory,startup] [--base <binary>]
// Runs the compiled ./ancla (or $ANCLA_BIN) when present, else `bun src/main.ts`. Loopback only.
// --base: throughput also runs that binary (e.g. built from the commit before a change) on a copy of
// the same data dir, in the same rounds, and prints its figures next to the others.
import { cpSync, existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { anclaArgv, BINARY, fmt, removeDir, rssMiB, seed, startAncla, startBare, tempDir, type Proc, type Seeded } from "./lib";
import { loadAverage, median, wrk, type WrkResult } from "./wrk";

const arg = (name: string, dflt: string) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1]! : dflt;
};
const SECONDS = Number(arg("seconds", "5"));
const ROUNDS = Number(arg("rounds", "3"));
const CONNECTIONS = Number(arg("connections", "32"));
const ONLY = new Set(arg("only", "throughput,memory,startup").split(","));
const BASE = arg("base", "");

const ROUTES: { label: string; path: string; auth: boolean }[] = [
  { label: "health (no auth: the floor)", path: "/api/v1/integrations/health", auth: false },
  { label: "organizations", path: "/api/v1/organizations", auth: true },
  { label: "organizations/{org}", path: "/api/v1/organizations/acme", auth: true },
  { label: "applications/{org}/{project} (100)", path: "/api/v1/applications/acme/web", auth: true },
  { label: "env deployments (50)", path: "/api/v1/orgs/acme/projects/web/envs/production/deployments", auth: true },
  { label: "config/resolved (40 vars)", path: "/api/v1/orgs/acme/projects/web/envs/production/services/svc-0/config/resolved", auth: true },
];

const header = () => `load average ${loadAverage()} (2 cores shared with other work)`;
console.log(`server: ${anclaArgv().label}`);
console.log(`start: ${new Date().toISOString()}, ${header()}`);
console.log("seeding 100 services, 40 config variables, 60 deployments …");
const seeded = await seed({ services: 100, configPerScope: 10, deployments: 60 });

try {
  if (ONLY.has("throughput")) await throughput(seeded);
  if (ONLY.has("memory")) await memory(seeded);
  if (ONLY.has("startup")) await startup(seeded);
  if (existsSync(BINARY)) console.log(`\nbinary ${BINARY}: ${fmt(statSync(BINARY).size / 2 ** 20)} MiB`);
} finally {
  removeDir(seeded.dataDir);
}
console.log(`end: ${new Date().toISOString()}, ${header()}`);

async function throughput({ dataDir, memberKey }: Seeded) {
  const ancla = await startAncla(dataDir);
  let bare: Proc | undefined;
  let base: Proc | undefined;
  const baseDir = BASE ? tempDir("ancla-bench-base-") : "";
  const results = new Map<string, { ancla: WrkResult[]; bare: WrkResult[]; base: WrkResult[] }>();
  try {
    if (BASE) {
      cpSync(dataDir, baseDir, { recursive: true }); // one server per data dir: the baseline gets a copy
      base = await startAncla(baseDir, "127.0.0.1:0", BASE);
      console.log(`base: ${BASE}`);
    }
    const bodies: Record<string, string> = {};
    for (const r of ROUTES) {
      const res = await fetch(ancla.url + r.path, { headers: r.auth ? { "x-api-key": memberKey } : {} });
      if (res.status !== 200) throw new Error(`${r.path} → ${res.status}: ${await res.text()}`);
      bodies[r.path] = await res.text();
    }
    bare = await startBare(bodies);
    // warm both (JIT, statement caches) before anything is counted
    for (const r of ROUTES) {
      await wrk(ancla.url, [r.path], { seconds: 1, connections: CONNECTIONS, headers: { "x-api-key": memberKey } });
      if (base) await wrk(base.url, [r.path], { seconds: 1, connections: CONNECTIONS, headers: { "x-api-key": memberKey } });
      await wrk(bare.url, [r.path], { seconds: 1, connections: CONNECTIONS });
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const r of ROUTES) {
        const entry = results.get(r.path) ?? { ancla: [], bare: [], base: [] };
        results.set(r.path, entry);
        // alternate which goes first, so drift on a shared machine hits both alike
        const runAncla = async () => entry.ancla.push(await wrk(ancla.url, [r.path], { seconds: SECONDS, connections: CONNECTIONS, headers: { "x-api-key": memberKey }, serverPid: ancla.proc.pid }));
        const runBare = async () => entry.bare.push(await wrk(bare!.url, [r.path], { seconds: SECONDS, connections: CONNECTIONS, serverPid: bare!.proc.pid }));
        const runBase = async () => void (base && entry.base.push(await wrk(base.url, [r.path], { seconds: SECONDS, connections: CONNECTIONS, headers: { "x-api-key": memberKey }, serverPid: base.proc.pid })));
        const order = [runAncla, runBase, runBare];
        for (let k = 0; k < order.length; k++) await order[(k + round) % order.length]!();
      }
      console.log(`  round ${round + 1}/${ROUNDS} done, ${header()}`);
    }
    console.log(`\nthroughput: wrk -t1 -c${CONNECTIONS}, ${SECONDS} s per server per route, ${ROUNDS} rounds, medians; keep-alive, loopback`);
    console.log("route                                 bytes  ancla rps  p50 ms  p99 ms  µs/req   bare rps  p50 ms  p99 ms  µs/req  ratio  wrk CPU  errors");
    for (const r of ROUTES) {
      const { ancla: a, bare: b } = results.get(r.path)!;
      const ratios = a.map((x, i) => x.rps / b[i]!.rps);
      const m = (xs: WrkResult[], k: keyof WrkResult) => median(xs.map((x) => x[k] as number));
      console.log(
        [
          r.label.padEnd(36),
          String(bodies[r.path]!.length).padStart(6),
          fmt(m(a, "rps"), 0).padStart(10),
          fmt(m(a, "p50"), 2).padStart(7),
          fmt(m(a, "p99"), 2).padStart(7),
          fmt(m(a, "serverUsPerReq"), 0).padStart(7),
          fmt(m(b, "rps"), 0).padStart(10),
          fmt(m(b, "p50"), 2).padStart(7),
          fmt(m(b, "p99"), 2).padStart(7),
          fmt(m(b, "serverUsPerReq"), 0).padStart(7),
          `${fmt(median(ratios), 2)}×`.padStart(6),
          `${fmt(Math.max(m(a, "wrkCpu"), m(b, "wrkCpu")) * 100, 0)}%`.padStart(8),
          String([...a, ...b].reduce((n, x) => n + x.errors, 0)).padStart(7),
        ].join(" "),
      );
    }
    console.log("(µs/req: the server's own CPU per request from /proc/<pid>/stat; ratio: median of the per-round ancla/bare rps; wrk CPU: the generator's, in % of one core)");
    // a median hides a tail: every round's p99, so one stalled round shows
    console.log("p99 ms of each round (ancla | bare):");
    for (const r of ROUTES) {
      const { ancla: a, bare: b } = results.get(r.path)!;
      console.log(`  ${r.label.padEnd(36)} ${a.map((x) => fmt(x.p99, 2)).join(" ")} | ${b.map((x) => fmt(x.p99, 2)).join(" ")}`);
    }
    const authed = ROUTES.filter((r) => r.auth);
    const worst = Math.min(...authed.map((r) => median(results.get(r.path)!.ancla.map((x, i) => x.rps / results.get(r.path)!.bare[i]!.rps))));
    const worstP99 = Math.max(...authed.map((r) => median(results.get(r.path)!.ancla.map((x) => x.p99))));
    if (base) {
      console.log(`\nthe same rounds, ${BASE} (base) next to ${anclaArgv().label} (new); µs/req: the server's CPU per request`);
      console.log("route                                 base rps  µs/req  p99 ms  ratio    new rps  µs/req  p99 ms  ratio   new/base CPU");
      for (const r of ROUTES) {
        const { ancla: a, bare: b, base: o } = results.get(r.path)!;
        const m = (xs: WrkResult[], k: keyof WrkResult) => median(xs.map((x) => x[k] as number));
        const ratio = (xs: WrkResult[]) => median(xs.map((x, i) => x.rps / b[i]!.rps));
        console.log(
          [
            r.label.padEnd(36),
            fmt(m(o, "rps"), 0).padStart(9),
            fmt(m(o, "serverUsPerReq"), 1).padStart(7),
            fmt(m(o, "p99"), 2).padStart(7),
            `${fmt(ratio(o), 2)}×`.padStart(6),
            fmt(m(a, "rps"), 0).padStart(10),
            fmt(m(a, "serverUsPerReq"), 1).padStart(7),
            fmt(m(a, "p99"), 2).padStart(7),
            `${fmt(ratio(a), 2)}×`.padStart(6),
            `${fmt(m(a, "serverUsPerReq") / m(o, "serverUsPerReq"), 2)}×`.padStart(14),
          ].join(" "),
        );
      }
    }
    console.log(`target ≥ 0.5× bare on every authenticated route → ${worst >= 0.5 ? "met" : "NOT met"} (worst ${fmt(worst, 2)}×); p99 ≤ 10 ms → ${worstP99 <= 10 ? "met" : "NOT met"} (worst ${fmt(worstP99, 2)} ms)`);
  } finally {
    await ancla.stop();
    await bare?.stop();
    await base?.stop();
    if (baseDir) removeDir(baseDir);
  }
}

/** VmRSS and VmHWM (peak) in MiB. */
function memOf(pid: number): { rss: number; peak: number } {
  const status = readFileSync(`/proc/${pid}/status`, "utf8");
  const kb = (k: string) => Number(new RegExp(`${k}:\\s+(\\d+) kB`).exec(status)?.[1] ?? NaN) / 1024;
  return { rss: kb("VmRSS"), peak: kb("VmHWM") };
}

async function memory({ dataDir, memberKey }: Seeded) {
  const rows: { label: string; idle: number; peak: number; after: number }[] = [];
  const authed = ROUTES.filter((r) => r.auth).map((r) => r.path);
  const bodies: Record<string, string> = {};
  for (const server of ["ancla", "bare"] as const) {
    const proc = server === "ancla" ? await startAncla(dataDir) : await startBare(bodies);
    try {
      if (server === "ancla") {
        for (const p of authed) bodies[p] = await (await fetch(proc.url + p, { headers: { "x-api-key": memberKey } })).text();
      }
      await Bun.sleep(5000);
      const idle = rssMiB(proc.proc.pid);
      const load = await wrk(proc.url, authed, { seconds: 20, connections: 200, headers: { "x-api-key": memberKey } });
      const peak = memOf(proc.proc.pid).peak;
      await Bun.sleep(30_000);
      const after = rssMiB(proc.proc.pid);
      rows.push({ label: server === "ancla" ? "ancla serve (100 services)" : "bare Bun.serve (same bytes)", idle, peak, after });
      console.log(`  ${server}: ${load.requests} requests in the 20 s load (${fmt(load.rps, 0)} rps, ${load.errors} errors), ${header()}`);
    } finally {
      await proc.stop();
    }
  }
  console.log("\nmemory: RSS 5 s after start (idle), peak (VmHWM), and 30 s after a 20 s wrk load of 200 connections over the five authenticated routes");
  for (const r of rows) console.log(`  ${r.label.padEnd(30)} idle ${fmt(r.idle).padStart(6)} MiB   peak ${fmt(r.peak).padStart(6)} MiB   30 s after load ${fmt(r.after).padStart(6)} MiB`);
  const a = rows[0]!;
  console.log(`targets: idle ≤ 60 MiB → ${a.idle <= 60 ? "met" : "NOT met"} (${fmt(a.idle)}); after load within 10 MiB of idle → ${a.after - a.idle <= 10 ? "met" : "NOT met"} (+${fmt(a.after - a.idle)})`);
}

/** A free loopback port: bind port 0, read it, release it. */
function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

/** Spawn, then poll `path` every 2 ms until it answers 200: ms from spawn to that answer. */
async function startTimed(argv: (port: number) => string[], path: string, home: string) {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const proc = Bun.spawn(argv(port), { stdout: "ignore", stderr: "ignore", stdin: "ignore", env: { ...process.env, HOME: home } });
  for (;;) {
    try {
      const res = await fetch(url + path);
      await res.arrayBuffer();
      if (res.status === 200) {
        const ms = performance.now() - t0;
        proc.kill("SIGTERM");
        await proc.exited;
        return ms;
      }
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null) throw new Error(`${argv(port).join(" ")} exited with ${proc.exitCode}`);
    if (performance.now() - t0 > 20_000) throw new Error("no 200 within 20 s");
    await Bun.sleep(2);
  }
}

async function startup({ dataDir }: Seeded) {
  const runs = Math.max(5, ROUNDS);
  const home = tempDir("ancla-bench-home-");
  const bareDir = tempDir("ancla-bench-bare-");
  const HEALTH = "/api/v1/integrations/health";
  try {
    const compiled = existsSync(BINARY);
    const bareArgv: (port: number) => string[] = compiled
      ? (() => {
          const bin = join(bareDir, "bare");
          const b = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", "--bytecode", join(import.meta.dir, "bare.ts"), "--outfile", bin], { stdout: "ignore", stderr: "inherit" });
          if (b.exitCode !== 0) throw new Error("could not compile the bare baseline");
          return (port: number) => [bin, join(bareDir, "bodies.json"), String(port)];
        })()
      : (port: number) => [process.execPath, join(import.meta.dir, "bare.ts"), join(bareDir, "bodies.json"), String(port)];
    await Bun.write(join(bareDir, "bodies.json"), JSON.stringify({ [HEALTH]: '{"status":"ok"}' }));
    const serve = (dir: string) => (port: number) => [...anclaArgv().argv, "serve", "--data-dir", dir, "--listen", `127.0.0.1:${port}`, "--router", "127.0.0.1:0"];
    const first: number[] = [];
    const restart: number[] = [];
    const bare: number[] = [];
    for (let i = 0; i < runs; i++) {
      const fresh = tempDir("ancla-bench-fresh-");
      first.push(await startTimed(serve(fresh), HEALTH, home));
      removeDir(fresh);
      restart.push(await startTimed(serve(dataDir), HEALTH, home));
      bare.push(await startTimed(bareArgv, HEALTH, home));
    }
    const line = (label: string, xs: number[]) => console.log(`  ${label.padEnd(38)} median ${fmt(median(xs)).padStart(6)} ms   max ${fmt(Math.max(...xs)).padStart(6)} ms`);
    console.log(`\nstartup: spawn → first 200 on ${HEALTH}, ${runs} runs each (${compiled ? "compiled, same flags for bare" : "from source"})`);
    line("ancla, empty data dir (first start)", first);
    line("ancla, 100 services (restart)", restart);
    line("bare Bun.serve", bare);
    const worst = Math.max(median(first), median(restart));
    console.log(`target ≤ 100 ms → ${worst <= 100 ? "met" : "NOT met"} (first start ${fmt(median(first))} ms, restart ${fmt(median(restart))} ms)`);
  } finally {
    removeDir(home);
    removeDir(bareDir);
  }
}
