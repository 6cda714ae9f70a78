// Prometheus instruments of one server (one registry per database, like the route table: no
// process-wide default registry, so test servers in one process never mix their counts).
import { Counter, Histogram, Registry } from "prom-client";

export type ServerMetrics = {
  registry: Registry;
  httpRequests: Counter<"method" | "route" | "status">;
  httpDuration: Histogram<"method" | "route">;
  routerRequests: Counter<"org" | "project" | "env" | "service" | "status">;
  routerDuration: Histogram<"org" | "project" | "env" | "service">;
};

const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];
const stores = new WeakMap<object, ServerMetrics>();

export function metricsOf(deps: { db: object }): ServerMetrics {
  let m = stores.get(deps.db);
  if (m) return m;
  const registry = new Registry();
  const registers = [registry];
  const serviceLabels = ["org", "project", "env", "service"] as const;
  m = {
    registry,
    httpRequests: new Counter({ name: "ancla_http_requests_total", help: "API requests by route template and status", labelNames: ["method", "route", "status"], registers }),
    httpDuration: new Histogram({ name: "ancla_http_request_duration_seconds", help: "API request duration until the response is sent", labelNames: ["method", "route"], buckets: LATENCY_BUCKETS, registers }),
    routerRequests: new Counter({ name: "ancla_router_requests_total", help: "App requests through the router by service and status", labelNames: [...serviceLabels, "status"], registers }),
    routerDuration: new Histogram({ name: "ancla_router_response_seconds", help: "Router time until the app's response headers", labelNames: serviceLabels, buckets: LATENCY_BUCKETS, registers }),
  };
  stores.set(deps.db, m);
  return m;
}
