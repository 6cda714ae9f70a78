// GET /metrics content: the request/router instruments of lib/metrics plus gauges and histograms
// read at scrape time — job queue, build and deploy outcomes and durations (from their history
// tables, so they survive restarts), and the sampler's latest per-replica usage.
import { createHash, timingSafeEqual } from "node:crypto";
import { Counter, Gauge, Histogram } from "prom-client";
import type { Deps } from "../../deps";
import { Unauthorized } from "../../errors";
import { metricsOf } from "../../lib/metrics";
import { requireServerAdmin, resolveActor } from "../auth/service";
import { latestOf } from "./sampler";
import * as repo from "./repo";
import { countPendingJobs } from "../../jobs/queue";

const SERVICE = ["org", "project", "env", "service"] as const;
const REPLICA = [...SERVICE, "process", "replica"] as const;
const DURATION_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1200, 3600];
const withCollectors = new WeakSet<object>();

function historyInstruments(deps: Deps, stage: "build" | "deploy", table: "images" | "deployments") {
  const registers = [metricsOf(deps).registry];
  // one query fills both at scrape time (the counter is registered first, so it collects first)
  new Counter({
    name: `ancla_${stage}s_total`,
    help: `Finished ${stage}s by outcome`,
    labelNames: [...SERVICE, "outcome"],
    registers,
    collect() {
      this.reset();
      duration.reset();
      for (const r of repo.finishedRuns(deps.sqlite, table)) {
        const labels = { org: r.org, project: r.project, env: r.env, service: r.service, outcome: r.status === "complete" ? "success" : "error" };
        this.inc(labels);
        const seconds = r.started ? (Date.parse(r.finished) - Date.parse(r.started)) / 1000 : NaN; // exact ms (julianday rounds)
        if (seconds >= 0) duration.observe(labels, seconds);
      }
    },
  });
  const duration = new Histogram({ name: `ancla_${stage}_duration_seconds`, help: `Duration of finished ${stage}s`, labelNames: [...SERVICE, "outcome"], buckets: DURATION_BUCKETS, registers });
}

function addCollectors(deps: Deps): void {
  if (withCollectors.has(deps.db)) return;
  withCollectors.add(deps.db);
  const registers = [metricsOf(deps).registry];
  new Gauge({
    name: "ancla_jobs",
    help: "Jobs queued or running, by kind",
    labelNames: ["kind", "status"],
    registers,
    collect() {
      this.reset();
      for (const r of countPendingJobs(deps))
        this.set({ kind: r.kind, status: r.status }, r.n);
    },
  });
  historyInstruments(deps, "build", "images");
  historyInstruments(deps, "deploy", "deployments");
  const replicaGauge = (name: string, help: string, value: (l: ReturnType<typeof latestOf> extends Map<string, infer V> ? V : never) => number | null) =>
    new Gauge({
      name,
      help,
      labelNames: REPLICA,
      registers,
      collect() {
        this.reset();
        for (const l of latestOf(deps).values()) {
          const v = value(l);
          if (v !== null) this.set({ ...l.labels, replica: String(l.replica) }, v);
        }
      },
    });
  replicaGauge("ancla_replica_cpu_millicores", "CPU use at the last sample (millicores)", (l) => l.cpuMillicores);
  replicaGauge("ancla_replica_memory_bytes", "Memory use at the last sample, without page cache", (l) => l.memoryBytes);
  replicaGauge("ancla_replica_running", "1 when the replica's container was running at the last sample", (l) => (l.running ? 1 : 0));
  replicaGauge("ancla_replica_restarts", "Restarts of the replica (Docker's and Ancla's)", (l) => l.restarts);
}

const digest = (s: string) => createHash("sha256").update(s).digest();

/** A server admin (key or session), or `Authorization: Bearer <--metrics-token>` (compared in constant time). */
export function authorizeScrape(deps: Deps, request: Request): void {
  const token = deps.config.metricsToken;
  const bearer = /^Bearer (.+)$/.exec(request.headers.get("authorization") ?? "")?.[1];
  if (token && bearer && timingSafeEqual(digest(bearer), digest(token))) return;
  const actor = resolveActor(deps, request);
  if (!actor) throw new Unauthorized();
  requireServerAdmin(actor);
}

export async function exposition(deps: Deps): Promise<{ body: string; contentType: string }> {
  addCollectors(deps);
  const { registry } = metricsOf(deps);
  return { body: await registry.metrics(), contentType: registry.contentType };
}
