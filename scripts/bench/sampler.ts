// Sampler cost with 0, 10 and 50 running fixture containers, beside `docker stats --no-stream`
// for the same containers, and database bytes per service per day. Not part of `bun test`.
// Usage: bun scripts/bench/sampler.ts [counts=0,10,50] [ticks=20]
import { Database } from "bun:sqlite";
import { readFileSync, rmSync } from "node:fs";
import { createDockerClient } from "../../src/targets/docker/client";
import { createUsageReader } from "../../src/targets/docker/usage";
import { openDatabase } from "../../src/db/client";
import { runMigrations } from "../../src/db/migrate";
import * as repo from "../../src/modules/observability/repo";

const counts = (process.argv[2] ?? "0,10,50").split(",").map(Number);
const TICKS = Number(process.argv[3] ?? 20);
const docker = createDockerClient();
const LABEL = "dev.ancla.bench";
const run = `b${Date.now().toString(36)}`;
const clkTck = 100;
const cpuMs = (pid: number | "self") => {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]!.split(" ");
  return ((Number(f[11]) + Number(f[12])) * 1000) / clkTck; // utime + stime
};
const dockerdPid = Number(Bun.spawnSync(["pidof", "dockerd"]).stdout.toString().trim().split(" ")[0]);

async function start(n: number, have: string[]): Promise<string[]> {
  while (have.length < n) {
    const c = await docker.createContainer({ Image: "ancla-test/busybox", Cmd: ["sleep", "3600"], Labels: { [LABEL]: run } });
    await c.start();
    have.push(c.id);
  }
  return have;
}

const ids: string[] = [];
console.log(`| containers | sampler CPU per tick | sampler share of a core at 15 s | RSS growth | docker stats --no-stream wall | docker CLI+dockerd CPU |`);
console.log(`|---:|---:|---:|---:|---:|---:|`);
try {
  for (const n of counts) {
    await start(n, ids);
    const reader = createUsageReader(docker);
    const targets = ids.map((id) => ({ id }));
    await reader.read(targets); // first tick: one inspect per container (cached from then on)
    Bun.gc(true);
    const rss0 = process.memoryUsage().rss;
    const c0 = cpuMs("self");
    for (let i = 0; i < TICKS; i++) await reader.read(targets);
    const perTick = (cpuMs("self") - c0) / TICKS;
    const rss = (process.memoryUsage().rss - rss0) / 1048576;
    let stats = "—";
    let statsCpu = "—";
    if (n > 0) {
      const d0 = cpuMs(dockerdPid);
      const t0 = performance.now();
      const p = Bun.spawnSync(["docker", "stats", "--no-stream", "--format", "{{.ID}}", ...ids]);
      const wall = performance.now() - t0;
      const self = Number(p.resourceUsage?.cpuTime.total ?? 0) / 1000; // µs → ms
      stats = `${(wall / 1000).toFixed(2)} s`;
      statsCpu = `${(cpuMs(dockerdPid) - d0 + self).toFixed(0)} ms`;
    }
    console.log(`| ${n} | ${perTick.toFixed(2)} ms | ${((perTick / 15000) * 100).toFixed(3)} % | ${rss.toFixed(1)} MiB | ${stats} | ${statsCpu} |`);
  }
} finally {
  for (const id of ids) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
}

// one service with one replica for a day at 15 s: 5,760 raw rows, 288 rollups (kept 30 days)
const file = `/tmp/ancla-bench-${run}.db`;
const { sqlite, db } = openDatabase(file);
runMigrations(db);
sqlite.exec("INSERT INTO organizations (id, name, slug, created_at, updated_at) VALUES ('o', 'o', 'o', '', '')");
sqlite.exec("PRAGMA foreign_keys = OFF"); // series without a real service row: only the sizes matter here
sqlite.exec("INSERT INTO usage_series (id, service_id, process, replica) VALUES (1, 's', 'web', 1)");
const day0 = 1_767_225_600;
const rows: repo.SampleRow[] = [];
for (let ts = day0; ts < day0 + 86400; ts += 15)
  rows.push({ seriesId: 1, ts, cpu: 100 + (ts % 700), mem: 48_000_000 + (ts % 9_000_000), rx: 1200 + (ts % 5000), tx: 900 + (ts % 4000), restarts: 0, running: 1 });
repo.insertSamples(sqlite, rows);
repo.rollUp(sqlite, day0, day0 + 86400);
const size = (name: string) => (sqlite.query("SELECT sum(pgsize) AS b FROM dbstat WHERE name = ?").get(name) as { b: number }).b;
const raw = size("usage_samples");
const roll = size("usage_rollups");
console.log(`\nper replica and day at 15 s: raw ${(raw / 1024).toFixed(0)} KiB (${rows.length} rows, kept 24 h), rollups ${(roll / 1024).toFixed(1)} KiB (288 rows, kept 30 days)`);
console.log(`steady state per replica: ${((raw + 30 * roll) / 1024).toFixed(0)} KiB (24 h raw + 30 days of rollups)`);
(sqlite as Database).close();
rmSync(file, { force: true });
rmSync(file + "-wal", { force: true });
rmSync(file + "-shm", { force: true });
