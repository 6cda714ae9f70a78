// GET /metrics content: the request/router instruments of lib/metrics plus gauges and histograms
// read at scrape time — job queue, build and deploy outcomes and durations (from their history
// tables, so they survive restarts), and the sampler's latest per-replica usage.
//
// prom-client writes the text; it is loaded at the first scrape (a server that is never scraped
// never loads it). The request and router instruments are counted in lib/metrics' plain
// structures and handed to prom-client's Registry as they are: a metric object whose
// getForPromString returns the samples in the shape and order prom-client's own Counter and
// Histogram return, so the text is the one they would write.
import { createHash, timingSafeEqual } from "node:crypto";
import type { Registry } from "prom-client";
import type { Deps } from "../../deps";
import { Unauthorized } from "../../errors";
import { metricsOf, samples, type CounterStore, type HistogramStore } from "../../lib/metrics";
import { requireServerAdmin, resolveActor } from "../auth/service";
import { latestOf } from "./sampler";
import * as repo from "./repo";
import { countPendingJobs } from "../../jobs/queue";

const SERVICE = ["org", "project", "env", "service"] as const;
const REPLICA = [...SERVICE, "process", "replica"] as const;
const DURATION_BUCKETS = [5, 15, 30, 60, 120, 300, 600, 1200, 3600];
const registries = new WeakMap<object, Registry>();
type PromClient = typeof import("prom-client");

/** prom-client's view of a lib/metrics instrument: read at each scrape, never copied. */
export function registerStore(registry: Registry, store: CounterStore | HistogramStore, type: "counter" | "histogram"): void {
  const read = () => ({ name: store.name, help: store.help, type, values: samples(store), aggregator: "sum" as const });
  registry.registerMetric({
    name: store.name,
    help: store.help,
    type,
    aggregator: "sum",
    getForPromString: read,
    get: read, // (the registry's JSON form is not served)
    reset() {},
  } as unknown as Parameters<Registry["registerMetric"]>[0]);
}

function historyInstruments(prom: PromClient, registers: Registry[], deps: Deps, stage: "build" | "deploy", table: "images" | "deployments") {
  const { Counter, Histogram } = prom;
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

function addCollectors(prom: PromClient, registers: Registry[], deps: Deps): void {
  const { Gauge } = prom;
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
  historyInstruments(prom, registers, deps, "build", "images");
  historyInstruments(prom, registers, deps, "deploy", "deployments");
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

/** This server's registry: made at its first scrape, in the order the instruments always had. */
async function registryOf(deps: Deps): Promise<Registry> {
  let registry = registries.get(deps.db);
  if (registry) return registry;
  const prom = await import("prom-client");
  registry = registries.get(deps.db); // another scrape may have made it meanwhile
  if (registry) return registry;
  registry = new prom.Registry();
  const m = metricsOf(deps);
  registerStore(registry, m.httpRequests, "counter");
  registerStore(registry, m.httpDuration, "histogram");
  registerStore(registry, m.routerRequests, "counter");
  registerStore(registry, m.routerDuration, "histogram");
  addCollectors(prom, [registry], deps);
  registries.set(deps.db, registry);
  return registry;
}

export async function exposition(deps: Deps): Promise<{ body: string; contentType: string }> {
  const registry = await registryOf(deps);
  return { body: await registry.metrics(), contentType: registry.contentType };
}
