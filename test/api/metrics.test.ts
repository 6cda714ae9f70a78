// GET /metrics: who may scrape (server admin key, --metrics-token, nobody else), and the text
// parsed by Debian's python3-prometheus-client parser with the label values checked: API requests
// by route template, job queue, deploy outcomes and durations, router traffic per service through
// a real router on 127.0.0.1, sampled replica usage with org/project/env/service/process labels.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { testApp, type TestApp } from "../support/app";
import { usageFixture } from "../support/usage-fixture";
import { startSampler } from "../../src/modules/observability/sampler";
import { routerMetrics } from "../../src/modules/observability";
import { startRouter, type RunningRouter } from "../../src/router/proxy";
import { RouteTable } from "../../src/router/table";
import type { UsageReader } from "../../src/targets/docker/usage";

setDefaultTimeout(180_000);

const TOKEN = "scrape-token-0123456789abcdef";
let t: TestApp;
let admin: string;
let owner: string;
let serviceId: string;
let router: RunningRouter;
let backend: ReturnType<typeof Bun.serve>;

type Sample = { name: string; labels: Record<string, string>; value: number };
/** The real parser: prometheus_client.parser.text_string_to_metric_families, every sample as JSON. */
function parse(text: string): Sample[] {
  const py = `import sys, json
from prometheus_client.parser import text_string_to_metric_families
out = [{"name": s.name, "labels": s.labels, "value": s.value} for f in text_string_to_metric_families(sys.stdin.read()) for s in f.samples]
print(json.dumps(out))`;
  const p = Bun.spawnSync(["/usr/bin/python3", "-c", py], { stdin: Buffer.from(text) });
  if (p.exitCode !== 0) throw new Error(`the Prometheus parser refused the text: ${p.stderr.toString()}`);
  return JSON.parse(p.stdout.toString());
}

let nowMs = Date.now();
const reader: UsageReader = {
  async read(targets) {
    return new Map(targets.map(({ id }) => [id, { cpuUsec: Math.round(nowMs * 120), memoryBytes: 42 * 1024 * 1024, rxBytes: 0, txBytes: 0, source: "cgroup2" as const, atMs: nowMs }]));
  },
  retain() {},
};

beforeAll(async () => {
  t = await testApp({ metricsToken: TOKEN });
  admin = (await t.user("root", { admin: true })).key;
  owner = (await t.user("owner")).key;
  ({ serviceId } = await usageFixture(t, owner, [{ id: "c1", process: "web", replica: 1 }]));
  const sampler = startSampler(t.deps, { reader, intervalMs: 0 });
  await sampler.sampleOnce();
  nowMs += 1000;
  await sampler.sampleOnce(); // 120 µs of CPU per ms: 120 millicores
  await sampler.stop();
  // a finished deploy with a known duration (90 s), and one queued job
  t.deps.sqlite.query("UPDATE deployments SET started_at = '2026-01-01T00:00:00.000Z', finished_at = '2026-01-01T00:01:30.000Z'").run();
  t.deps.sqlite
    .query("INSERT INTO jobs (id, service_id, kind, status, payload, created_at) VALUES ('0190aaaa-0000-7000-8000-00000000000j', ?, 'pipeline', 'queued', '{}', '2026-01-01T00:00:00Z')")
    .run(serviceId);
  backend = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => new Response("ok", { status: new URL(req.url).pathname === "/missing" ? 404 : 200 }) });
  const table = new RouteTable();
  table.setHosts(new Map([["api.acme.localhost", serviceId]]));
  table.setReplicas(serviceId, [{ id: "c1", port: backend.port! }]);
  router = startRouter({ hostname: "127.0.0.1", port: 0, table, onResponse: routerMetrics(t.deps) });
});
afterAll(async () => {
  await router?.stop();
  backend?.stop(true);
  t?.close();
});

describe("GET /metrics", () => {
  test("anonymous 401, a member without server admin 403, wrong token 401", async () => {
    expect((await t.req("GET", "/metrics")).status).toBe(401);
    expect((await t.req("GET", "/metrics", undefined, { key: owner })).status).toBe(403);
    expect((await t.req("GET", "/metrics", undefined, { headers: { authorization: "Bearer wrong-token-wrong-token" } })).status).toBe(401);
  });

  test("the text parses; label values are the resources' slugs and route templates", async () => {
    for (const path of ["/", "/missing", "/"]) expect((await fetch(`${router.url}${path}`, { headers: { host: "api.acme.localhost" } })).status).toBe(path === "/" ? 200 : 404);
    await t.req("GET", `/api/v1/orgs/acme/projects/web/observability?service=api`, undefined, { key: owner });
    await Bun.sleep(20); // Elysia's after-response hook runs once the response is out
    const r = await t.req("GET", "/metrics", undefined, { headers: { authorization: `Bearer ${TOKEN}` } });
    expect(r.status).toBe(200);
    expect(r.headers.get("content-type")).toContain("text/plain");
    const samples = parse(r.text);
    const find = (name: string, labels: Record<string, string>) => samples.find((s) => s.name === name && Object.entries(labels).every(([k, v]) => s.labels[k] === v));
    const svc = { org: "acme", project: "web", env: "production", service: "api" };

    expect(find("ancla_replica_cpu_millicores", { ...svc, process: "web", replica: "1" })?.value).toBe(120);
    expect(find("ancla_replica_memory_bytes", { ...svc, process: "web" })?.value).toBe(42 * 1024 * 1024);
    expect(find("ancla_replica_running", { ...svc, process: "web" })?.value).toBe(1);
    expect(find("ancla_http_requests_total", { method: "GET", route: "/api/v1/orgs/:org/projects/:project/observability", status: "200" })?.value).toBe(1);
    expect(samples.some((s) => s.name.startsWith("ancla_http_request") && /acme|web\b/.test(s.labels.route ?? ""))).toBe(false); // templates, not raw paths
    expect(find("ancla_jobs", { kind: "pipeline", status: "queued" })?.value).toBe(1);
    expect(find("ancla_deploys_total", { ...svc, outcome: "success" })?.value).toBe(1);
    expect(find("ancla_deploy_duration_seconds_sum", { ...svc, outcome: "success" })?.value).toBe(90);
    expect(find("ancla_deploy_duration_seconds_bucket", { ...svc, outcome: "success", le: "60" })?.value).toBe(0);
    expect(find("ancla_deploy_duration_seconds_bucket", { ...svc, outcome: "success", le: "120" })?.value).toBe(1);
    expect(find("ancla_router_requests_total", { ...svc, status: "200" })?.value).toBe(2);
    expect(find("ancla_router_requests_total", { ...svc, status: "404" })?.value).toBe(1);
    expect(find("ancla_router_response_seconds_count", svc)?.value).toBe(3);
  });

  test("a server admin's key may scrape too", async () => {
    const r = await t.req("GET", "/metrics", undefined, { key: admin });
    expect(r.status).toBe(200);
    expect(parse(r.text).length).toBeGreaterThan(10);
  });
});
