// Usage samples and rollups. Plain SQL through bun:sqlite's cached statements: the writes run
// every tick for every replica and the reads are aggregates drizzle would only wrap as raw sql.
import type { Database } from "bun:sqlite";

export const ROLLUP_SECONDS = 300;

export type SampleRow = { seriesId: number; ts: number; cpu: number | null; mem: number | null; rx: number | null; tx: number | null; restarts: number; running: 0 | 1 };

/** The series id of a replica slot, created on first use. */
export function seriesId(sqlite: Database, serviceId: string, process: string, replica: number): number {
  sqlite.query("INSERT OR IGNORE INTO usage_series (service_id, process, replica) VALUES (?, ?, ?)").run(serviceId, process, replica);
  return (sqlite.query("SELECT id FROM usage_series WHERE service_id = ? AND process = ? AND replica = ?").get(serviceId, process, replica) as { id: number }).id;
}

export function insertSamples(sqlite: Database, rows: SampleRow[]): void {
  const insert = sqlite.query("INSERT OR REPLACE INTO usage_samples (series_id, ts, cpu, mem, rx, tx, restarts, running) VALUES (?, ?, ?, ?, ?, ?, ?, ?)");
  sqlite.transaction(() => {
    for (const r of rows) insert.run(r.seriesId, r.ts, r.cpu, r.mem, r.rx, r.tx, r.restarts, r.running);
  })();
}

/** Aggregate the raw samples of [from, to) into 5-minute rows; re-running a bucket replaces it. */
export function rollUp(sqlite: Database, from: number, to: number): void {
  sqlite
    .query(
      `INSERT OR REPLACE INTO usage_rollups (series_id, ts, n, running, cpu_avg, cpu_max, mem_avg, mem_max, rx, tx, restarts)
       SELECT series_id, (ts / ${ROLLUP_SECONDS}) * ${ROLLUP_SECONDS}, count(*), sum(running), CAST(round(avg(cpu)) AS INTEGER), max(cpu),
              CAST(round(avg(mem)) AS INTEGER), max(mem), sum(rx), sum(tx), max(restarts)
       FROM usage_samples WHERE ts >= ? AND ts < ? GROUP BY series_id, ts / ${ROLLUP_SECONDS}`,
    )
    .run(from, to);
}

/** Start of the newest rollup bucket, or null when there is none. */
export const lastRollup = (sqlite: Database): number | null => (sqlite.query("SELECT max(ts) AS ts FROM usage_rollups").get() as { ts: number | null }).ts;

/** Delete by age; series left without rows (replicas scaled away long ago) go too. */
export function prune(sqlite: Database, rawBefore: number, rollupsBefore: number): { samples: number; rollups: number } {
  const samples = sqlite.query("DELETE FROM usage_samples WHERE ts < ?").run(rawBefore).changes;
  const rollups = sqlite.query("DELETE FROM usage_rollups WHERE ts < ?").run(rollupsBefore).changes;
  sqlite
    .query(
      `DELETE FROM usage_series WHERE NOT EXISTS (SELECT 1 FROM usage_samples s WHERE s.series_id = usage_series.id)
       AND NOT EXISTS (SELECT 1 FROM usage_rollups r WHERE r.series_id = usage_series.id)`,
    )
    .run();
  return { samples, rollups };
}

/** Per bucket and series: sums over the bucket (cpu, mem, running), max restarts. */
export type BucketRow = { b: number; series_id: number; cpu: number | null; mem: number | null; running: number; restarts: number };
/** Per bucket: how many sampler ticks it holds (the divisor of the per-tick averages). */
export type TickRow = { b: number; ticks: number; cpu_ticks: number; mem_ticks: number };

type Window = { serviceId: string; start: number; end: number; step: number };

export function rawBuckets(sqlite: Database, w: Window): { rows: BucketRow[]; ticks: TickRow[] } {
  const params = [w.start, w.step, w.serviceId, w.start, w.end] as const;
  const from = "FROM usage_samples s JOIN usage_series r ON r.id = s.series_id WHERE r.service_id = ? AND s.ts >= ? AND s.ts < ?";
  const rows = sqlite
    .query(`SELECT (s.ts - ?) / ? AS b, s.series_id, sum(s.cpu) AS cpu, sum(s.mem) AS mem, sum(s.running) AS running, max(s.restarts) AS restarts ${from} GROUP BY b, s.series_id`)
    .all(...params) as BucketRow[];
  // a replica's first tick has memory but no CPU rate yet: CPU averages over the ticks that have one
  const ticks = sqlite
    .query(
      `SELECT (s.ts - ?) / ? AS b, count(DISTINCT s.ts) AS ticks, count(DISTINCT CASE WHEN s.cpu IS NOT NULL THEN s.ts END) AS cpu_ticks,
              count(DISTINCT CASE WHEN s.mem IS NOT NULL THEN s.ts END) AS mem_ticks ${from} GROUP BY b`,
    )
    .all(...params) as TickRow[];
  return { rows, ticks };
}

export function rollupBuckets(sqlite: Database, w: Window): { rows: BucketRow[]; ticks: TickRow[] } {
  const params = [w.start, w.step, w.serviceId, w.start, w.end] as const;
  const from = "FROM usage_rollups u JOIN usage_series r ON r.id = u.series_id WHERE r.service_id = ? AND u.ts >= ? AND u.ts < ?";
  const rows = sqlite
    .query(
      `SELECT (u.ts - ?) / ? AS b, u.series_id, sum(u.cpu_avg * u.n) AS cpu, sum(u.mem_avg * u.n) AS mem, sum(u.running) AS running, max(u.restarts) AS restarts ${from} GROUP BY b, u.series_id`,
    )
    .all(...params) as BucketRow[];
  // ticks of a 5-minute row = its sample count; replicas of one tick share it, so take the max per row time
  const ticks = sqlite
    .query(`SELECT b, sum(t) AS ticks, sum(t) AS cpu_ticks, sum(t) AS mem_ticks FROM (SELECT (u.ts - ?) / ? AS b, max(u.n) AS t ${from} GROUP BY u.ts) GROUP BY b`)
    .all(...params) as TickRow[];
  return { rows, ticks };
}

/** Size of the usage tables in bytes (dbstat), for the benchmark and the README figure. */
export function usageBytes(sqlite: Database): number | null {
  try {
    const r = sqlite.query("SELECT sum(pgsize) AS bytes FROM dbstat WHERE name IN ('usage_samples', 'usage_rollups', 'usage_series', 'usage_series_slot_idx')").get() as { bytes: number };
    return r.bytes;
  } catch {
    return null; // SQLite built without dbstat
  }
}

export type FinishedRun = { org: string; project: string; env: string; service: string; status: string; started: string | null; finished: string };
/** Every finished build or deployment with its service's slugs (build and deploy metrics). */
export const finishedRuns = (sqlite: Database, table: "images" | "deployments"): FinishedRun[] =>
  sqlite
    .query(
      `SELECT o.slug AS org, p.slug AS project, e.slug AS env, s.slug AS service, t.status AS status,
              t.started_at AS started, t.finished_at AS finished
       FROM ${table} t JOIN services s ON s.id = t.service_id JOIN environments e ON e.id = s.env_id
       JOIN projects p ON p.id = s.project_id JOIN organizations o ON o.id = p.org_id
       WHERE t.finished_at IS NOT NULL AND t.status IN ('complete', 'error')`,
    )
    .all() as FinishedRun[];
