// Benchmark (a): authenticated GET /api/v1/organizations and GET /api/v1/applications/acme/web
// (100 services) on `ancla serve` vs a bare Bun.serve returning the same bytes, side by side.
// Usage: bun scripts/bench/api-throughput.ts [--seconds 5] [--concurrency 32]
import { anclaArgv, fmt, load, removeDir, seed, startAncla, startBare, type LoadResult } from "./lib";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const seconds = arg("seconds", 5);
const concurrency = arg("concurrency", 32);

console.log(`seeding 100 services … (server: ${anclaArgv().label})`);
const { dataDir, key } = await seed({ services: 100 });
const ancla = await startAncla(dataDir);
const paths = ["/api/v1/organizations", "/api/v1/applications/acme/web"];
const bodies: Record<string, string> = {};
type Row = { path: string; bytes: number; ancla: LoadResult; bare: LoadResult };
const rows: Row[] = [];
let bare: Awaited<ReturnType<typeof startBare>> | undefined;
try {
  for (const path of paths) {
    const res = await fetch(ancla.url + path, { headers: { "x-api-key": key } });
    if (res.status !== 200) throw new Error(`${path} → ${res.status}`);
    bodies[path] = await res.text();
  }
  bare = await startBare(bodies);
  for (const path of paths) {
    // alternate the two servers so drift on a shared machine hits both alike
    const a1 = await load(ancla.url + path, { key, concurrency, seconds: seconds / 2 });
    const b1 = await load(bare!.url + path, { concurrency, seconds: seconds / 2 });
    const a2 = await load(ancla.url + path, { key, concurrency, seconds: seconds / 2 });
    const b2 = await load(bare!.url + path, { concurrency, seconds: seconds / 2 });
    const merge = (x: LoadResult, y: LoadResult): LoadResult => ({
      requests: x.requests + y.requests,
      errors: x.errors + y.errors,
      rps: (x.rps + y.rps) / 2,
      p50: Math.max(x.p50, y.p50),
      p99: Math.max(x.p99, y.p99),
    });
    rows.push({ path, bytes: bodies[path]!.length, ancla: merge(a1, a2), bare: merge(b1, b2) });
  }
} finally {
  await ancla.stop();
  await bare?.stop();
  removeDir(dataDir);
}

console.log(`\nconcurrency ${concurrency}, ${seconds} s per server per route, loopback, keep-alive`);
console.log("route                              bytes   ancla req/s  p99 ms   bare req/s  p99 ms   ancla/bare  errors");
for (const r of rows) {
  const ratio = r.ancla.rps / r.bare.rps;
  console.log(
    [
      r.path.padEnd(34),
      String(r.bytes).padStart(6),
      fmt(r.ancla.rps, 0).padStart(12),
      fmt(r.ancla.p99, 2).padStart(7),
      fmt(r.bare.rps, 0).padStart(12),
      fmt(r.bare.p99, 2).padStart(7),
      `${fmt(ratio * 100, 0)}%`.padStart(11),
      String(r.ancla.errors + r.bare.errors).padStart(7),
    ].join(" "),
  );
}
const worst = Math.min(...rows.map((r) => r.ancla.rps / r.bare.rps));
console.log(`\ntarget: ancla ≥ 50% of bare Bun throughput → ${worst >= 0.5 ? "met" : "NOT met"} (worst ${fmt(worst * 100, 0)}%)`);
