// Benchmark (b): compiled `ancla serve` start → first 200, and idle RSS with 100 services,
// next to a bare Bun.serve compiled the same way. Usage: bun scripts/bench/startup.ts [--runs 5]
import { existsSync, statSync } from "node:fs";
import { join } from "node:path";
import { BINARY, fmt, removeDir, rssMiB, seed, tempDir } from "./lib";

const runsArg = process.argv.indexOf("--runs");
const RUNS = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 5;
if (!existsSync(BINARY)) {
  console.error(`no compiled binary at ${BINARY}: run \`bun run build\` first`);
  process.exit(1);
}
console.log(`binary ${BINARY} (${(statSync(BINARY).size / 2 ** 20).toFixed(0)} MiB, built ${statSync(BINARY).mtime.toISOString()})`);

/** A free loopback port: bind port 0, read it, release it. */
function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

type Started = { ms: number; proc: ReturnType<typeof Bun.spawn>; url: string };
const home = tempDir("ancla-bench-home-"); // one empty HOME for every start, removed at the end

/** Spawn, then poll `path` every 2 ms until it answers 200; time from spawn to that answer. */
async function startTimed(argv: (port: number) => string[], path: string): Promise<Started> {
  const port = freePort();
  const url = `http://127.0.0.1:${port}`;
  const t0 = performance.now();
  const proc = Bun.spawn(argv(port), { stdout: "ignore", stderr: "ignore", stdin: "ignore", env: { ...process.env, HOME: home } });
  for (;;) {
    try {
      const res = await fetch(url + path);
      await res.arrayBuffer();
      if (res.status === 200) return { ms: performance.now() - t0, proc, url };
    } catch {
      // not listening yet
    }
    if (proc.exitCode !== null) throw new Error(`${argv(port).join(" ")} exited with ${proc.exitCode}`);
    if (performance.now() - t0 > 20_000) throw new Error("no 200 within 20 s");
    await Bun.sleep(2);
  }
}

const stop = async (p: Started) => {
  p.proc.kill("SIGTERM");
  await p.proc.exited;
};
const stats = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return { median: s[Math.floor(s.length / 2)]!, max: s[s.length - 1]! };
};

// bare baseline: the same compile flags, one fixed JSON answer
const bareDir = tempDir("ancla-bench-bare-");
const bareBin = join(bareDir, "bare");
const build = Bun.spawnSync([process.execPath, "build", "--compile", "--minify", "--bytecode", join(import.meta.dir, "bare.ts"), "--outfile", bareBin], { stdout: "ignore", stderr: "inherit" });
if (build.exitCode !== 0) throw new Error("could not compile the bare baseline");
await Bun.write(join(bareDir, "bodies.json"), JSON.stringify({ "/api/v1/integrations/health": '{"status":"ok"}' }));
const bareArgv = (port: number) => [bareBin, join(bareDir, "bodies.json"), String(port)];

const HEALTH = "/api/v1/integrations/health";
const serveArgv = (dataDir: string) => (port: number) => [BINARY, "serve", "--data-dir", dataDir, "--listen", `127.0.0.1:${port}`, "--router", "127.0.0.1:0"];

console.log("seeding 100 services …");
const seeded = await seed({ services: 100 });
const results: Record<string, number[]> = { "ancla, empty data dir (first start)": [], "ancla, 100 services (restart)": [], "bare Bun.serve": [] };
for (let i = 0; i < RUNS; i++) {
  const fresh = tempDir("ancla-bench-fresh-");
  const a = await startTimed(serveArgv(fresh), HEALTH);
  results["ancla, empty data dir (first start)"]!.push(a.ms);
  await stop(a);
  removeDir(fresh);
  const b = await startTimed(serveArgv(seeded.dataDir), HEALTH);
  results["ancla, 100 services (restart)"]!.push(b.ms);
  await stop(b);
  const c = await startTimed(bareArgv, HEALTH);
  results["bare Bun.serve"]!.push(c.ms);
  await stop(c);
}

// idle RSS: serve the lists a few hundred times, let it settle, read VmRSS
const warm = await startTimed(serveArgv(seeded.dataDir), HEALTH);
for (let i = 0; i < 200; i++) {
  for (const path of ["/api/v1/organizations", "/api/v1/applications/acme/web"]) {
    const res = await fetch(warm.url + path, { headers: { "x-api-key": seeded.key } });
    if (res.status !== 200) throw new Error(`${path} → ${res.status}`);
    await res.arrayBuffer();
  }
}
await Bun.sleep(3000);
const anclaRss = rssMiB(warm.proc.pid);
await stop(warm);
const bare = await startTimed(bareArgv, HEALTH);
await Bun.sleep(1000);
const bareRss = rssMiB(bare.proc.pid);
await stop(bare);
removeDir(seeded.dataDir);
removeDir(bareDir);
removeDir(home);

console.log(`\nstart → first 200 on ${HEALTH}, ${RUNS} runs each`);
for (const [label, xs] of Object.entries(results)) {
  const s = stats(xs);
  console.log(`  ${label.padEnd(38)} median ${fmt(s.median).padStart(6)} ms   max ${fmt(s.max).padStart(6)} ms`);
}
const restart = stats(results["ancla, 100 services (restart)"]!).median;
const first = stats(results["ancla, empty data dir (first start)"]!).median;
const bareMs = stats(results["bare Bun.serve"]!).median;
console.log(`  ancla restart / bare: ${fmt(restart / bareMs, 2)}×`);
console.log(`\nidle RSS after 400 list requests: ancla (100 services) ${fmt(anclaRss)} MiB, bare ${fmt(bareRss)} MiB (${fmt(anclaRss / bareRss, 2)}×)`);
console.log(`\ntargets: start ≤ 200 ms → ${Math.max(restart, first) <= 200 ? "met" : "NOT met"} (first start ${fmt(first)} ms, restart ${fmt(restart)} ms); idle RSS ≤ 80 MiB → ${anclaRss <= 80 ? "met" : "NOT met"}`);
