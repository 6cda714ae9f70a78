// `ancla metrics [org/project/env/service] [--range 1h|6h|24h|7d|30d]`: a service's current usage
// per replica (what the server's sampler read last) and compact text sparklines of its CPU,
// memory and running replicas over the range; `--json` gives the route's answer (the series).
import { usage, noExtraArgs } from "../args";
import { clientFor } from "../client";
import { command, type CommandTable } from "../context";
import { renderTable, type Column } from "../render";
import { RANGES, type ObservabilityResponse, type RangeName } from "../../modules/observability/model";
import { pipelineQuery, projectPath, serviceTarget, TARGET } from "./deploy";

type Replica = ObservabilityResponse["replicas"][number];
type Point = ObservabilityResponse["history"][number];

const BARS = "▁▂▃▄▅▆▇█";
/** Characters per sparkline: the route's 120 points, averaged in pairs. */
export const SPARK_WIDTH = 60;

/** Averages `values` into `width` cells (null: nothing sampled there) and draws them from the range's minimum to its maximum; a gap is a space. */
export function sparkline(values: (number | null)[], width = SPARK_WIDTH): string {
  const per = Math.max(1, Math.ceil(values.length / width));
  const cells: (number | null)[] = [];
  for (let i = 0; i < values.length; i += per) {
    const got = values.slice(i, i + per).filter((v): v is number => v !== null);
    cells.push(got.length ? got.reduce((a, b) => a + b, 0) / got.length : null);
  }
  const present = cells.filter((v): v is number => v !== null);
  if (!present.length) return " ".repeat(cells.length);
  const lo = Math.min(...present);
  const hi = Math.max(...present);
  return cells.map((v) => (v === null ? " " : BARS[hi === lo ? (hi > 0 ? 3 : 0) : Math.round(((v - lo) / (hi - lo)) * (BARS.length - 1))])).join("");
}

export const millicores = (m: number | null | undefined) => (m == null ? "-" : `${Math.round(m)} m`);
export function bytes(n: number | null | undefined): string {
  if (n == null) return "-";
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) (v /= 1024), u++;
  return u === 0 ? `${v} B` : `${v.toFixed(1)} ${units[u]}`;
}

const columns: Column<Replica>[] = [
  { header: "REPLICA", get: (r) => `${r.process}.${r.replica}` },
  { header: "STATE", get: (r) => r.state },
  { header: "CPU", get: (r) => millicores(r.cpu_usage_m) },
  { header: "MEMORY", get: (r) => bytes(r.memory_usage_bytes) },
  { header: "RESTARTS", get: (r) => r.restart_count },
  { header: "CONTAINER", get: (r) => r.container_id },
  { header: "SAMPLED", get: (r) => r.sampled_at.replace(/\.\d+Z$/, "Z") },
];

/** One chart line: label, sparkline between bars, the newest and the highest value of the range. */
function chartLine(label: string, points: Point[], pick: (p: Point) => number | null, show: (n: number) => string): string {
  const values = points.map(pick);
  const present = values.filter((v): v is number => v !== null);
  const last = [...values].reverse().find((v) => v !== null);
  const tail = present.length ? `now ${show(last!)}, max ${show(Math.max(...present))}` : "no samples";
  return `${label.padEnd(9)}|${sparkline(values)}| ${tail}`;
}

function text(name: string, m: ObservabilityResponse): string {
  const sampled = m.history.some((p) => p.pod_count !== null);
  const head = `${name}: last ${m.range}, ${m.step} s per point, sampled every ${m.sample_interval} s`;
  const charts = sampled
    ? [
        chartLine("CPU", m.history, (p) => p.cpu_usage_m, millicores),
        chartLine("memory", m.history, (p) => p.memory_usage_bytes, bytes),
        chartLine("replicas", m.history, (p) => p.pod_count, String),
      ]
    : [`no samples in the last ${m.range} (nothing running, or the sampler has not ticked yet)`];
  const now = m.replicas.length ? renderTable(m.replicas, columns) : "no replicas seen by the last sampler tick";
  const gap = m.metrics_unavailable ? [`no CPU/memory from the cluster since ${m.metrics_unavailable.since.replace(/\.\d+Z$/, "Z")}: ${m.metrics_unavailable.message} (${m.metrics_unavailable.reason})`] : [];
  return [head, ...gap, ...charts, "", now].join("\n");
}

export const metricsCommands: CommandTable = {
  metrics: command({
    summary: "Show a service's CPU and memory per replica now and as sparklines over a range",
    usage: "metrics [org/project/env/service]",
    options: { range: { type: "string", value: Object.keys(RANGES).join("|"), description: "how far back the sparklines reach (default 1h)" }, ...TARGET },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const range = ctx.flags.range ?? "1h";
      if (!(range in RANGES)) throw usage(`--range must be one of ${Object.keys(RANGES).join(", ")}`);
      const t = serviceTarget(ctx, ctx.args[0]);
      const m = await clientFor(ctx).get<ObservabilityResponse>(`${projectPath(t)}/observability?${pipelineQuery(t)}&range=${range as RangeName}`);
      return { kind: "text", text: text(`${t.org}/${t.project}/${t.env}/${t.service}`, m), data: m };
    },
  }),
};
