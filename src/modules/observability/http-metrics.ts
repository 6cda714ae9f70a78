// Counts and times every API request by its route template (`/api/v1/orgs/:org`, never the raw
// path: one series per route, not per resource). Unmatched paths share one label.
import { Elysia } from "elysia";
import type { Deps } from "../../deps";
import { metricsOf } from "../../lib/metrics";

export function requestMetrics(deps: Deps) {
  const m = metricsOf(deps);
  const started = new WeakMap<Request, number>();
  return new Elysia({ name: "request-metrics" })
    .onRequest(({ request }) => void started.set(request, performance.now()))
    .onAfterResponse({ as: "global" }, ({ request, route, set }) => {
      const t0 = started.get(request);
      // routes are registered with and without the trailing slash; one series per route
      const template = route ? route.replace(/(.)\/$/, "$1") : "unmatched";
      const status = String(typeof set.status === "number" ? set.status : 200);
      m.httpRequests.inc({ method: request.method, route: template, status });
      if (t0 !== undefined) m.httpDuration.observe({ method: request.method, route: template }, (performance.now() - t0) / 1000);
    });
}
