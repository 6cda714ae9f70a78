// The request and router instruments count in plain structures (src/lib/metrics.ts) and prom-client
// writes them at scrape time from those values: the text must be the one prom-client's own Counter
// and Histogram write for the same observations — names, help, label order, cumulative buckets,
// +Inf, sum, count, escaping, and the order of the series.
import { expect, setDefaultTimeout, test } from "bun:test";
import { Counter, Histogram, Registry } from "prom-client";
import { CounterStore, HistogramStore, LATENCY_BUCKETS } from "../../src/lib/metrics";
import { registerStore } from "../../src/modules/observability/exposition";

setDefaultTimeout(60_000);

type Obs = { labels: Record<string, string>; value: number };

/** Both texts for the same observations: prom-client's instruments, and the stores handed to prom-client as samples. */
async function both(observations: Obs[], counted: Obs[]) {
  const theirs = new Registry();
  const c = new Counter({ name: "t_requests_total", help: "Requests \\ by \"route\"\nand status", labelNames: ["method", "route", "status"], registers: [theirs] });
  const h = new Histogram({ name: "t_duration_seconds", help: "Duration", labelNames: ["method", "route"], buckets: [...LATENCY_BUCKETS], registers: [theirs] });
  const cs = new CounterStore("t_requests_total", "Requests \\ by \"route\"\nand status", ["method", "route", "status"]);
  const hs = new HistogramStore("t_duration_seconds", "Duration", ["method", "route"], LATENCY_BUCKETS);
  for (const o of counted) {
    c.inc(o.labels);
    cs.labels(o.labels).inc();
  }
  for (const o of observations) {
    h.observe(o.labels, o.value);
    hs.labels(o.labels).observe(o.value);
  }
  cs.labels({ method: "GET", route: "/looked/up/only", status: "200" }); // a series never counted is not written (as prom-client's labels())
  hs.labels({ method: "GET", route: "/looked/up/only" });
  const ours = new Registry();
  registerStore(ours, cs, "counter");
  registerStore(ours, hs, "histogram");
  return { theirs: await theirs.metrics(), ours: await ours.metrics() };
}

test("the stores' text is prom-client's own for the same observations", async () => {
  const routes = ["/api/v1/orgs/:org", "/api/v1/organizations", 'odd "route" \\ with\nnewline'];
  const observations: Obs[] = [];
  const counted: Obs[] = [];
  let seed = 7;
  const rnd = () => ((seed = (seed * 48271) % 2147483647) / 2147483647);
  for (let i = 0; i < 500; i++) {
    const route = routes[i % routes.length]!;
    const method = i % 7 === 0 ? "POST" : "GET";
    // values on the bounds, between them, past the last one, and zero
    const value = i % 11 === 0 ? LATENCY_BUCKETS[i % LATENCY_BUCKETS.length]! : i % 13 === 0 ? 40 + rnd() : i % 17 === 0 ? 0 : rnd() * rnd() * 3;
    observations.push({ labels: { method, route }, value });
    counted.push({ labels: { method, route, status: i % 5 === 0 ? "404" : "200" }, value: 1 });
  }
  const { theirs, ours } = await both(observations, counted);
  expect(ours).toBe(theirs);
  expect(ours).toContain('t_duration_seconds_bucket{le="+Inf",method="GET",route="/api/v1/organizations"}');
  expect(ours).not.toContain("/looked/up/only");
});

test("nothing observed: only the HELP and TYPE lines, as prom-client writes them", async () => {
  const { theirs, ours } = await both([], []);
  expect(ours).toBe(theirs);
});
