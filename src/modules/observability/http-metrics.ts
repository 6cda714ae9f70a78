// Counts and times every API request by its route template (`/api/v1/orgs/:org`, never the raw
// path: one series per route, not per resource). Unmatched paths share one label.
//
// Not an onAfterResponse hook: Elysia runs those in a setImmediate per request (~9 µs here, a
// quarter of the cheapest route). `app.ts` calls `finish` from its one mapResponse hook, which
// every answer passes (a handler's value or Response, and onError's answer), with the status set
// by then. The series are looked up once per (method, route, status), not hashed from a labels
// object on every request, and count in lib/metrics' plain structures. The front handler
// (src/front.ts) answers some requests without Elysia and counts them through `series` below, in
// the same series.
import type { Deps } from "../../deps";
import { metricsOf, type CounterSeries, type HistogramSeries } from "../../lib/metrics";

export type Series = { counted: CounterSeries; timed: HistogramSeries };

/** The series of one (method, route template, status): what a request answered without Elysia counts in. */
export function httpSeries(deps: Deps, method: string, route: string, status: number): Series {
  const m = metricsOf(deps);
  return { counted: m.httpRequests.labels({ method, route, status: String(status) }), timed: m.httpDuration.labels({ method, route }) };
}

export function requestMetrics(deps: Deps) {
  const started = new WeakMap<Request, number>();
  const series = new Map<string, Series>();
  const seriesOf = (method: string, route: string | undefined, status: number): Series => {
    const key = `${method} ${status} ${route ?? ""}`;
    let s = series.get(key);
    if (!s) {
      // routes are registered with and without the trailing slash; one series per route
      const template = route ? route.replace(/(.)\/$/, "$1") : "unmatched";
      s = httpSeries(deps, method, template, status);
      series.set(key, s);
    }
    return s;
  };
  return {
    start: (request: Request): void => void started.set(request, performance.now()),
    finish: (request: Request, route: string | undefined, status: unknown): void => {
      const s = seriesOf(request.method, route, typeof status === "number" ? status : 200);
      s.counted.inc();
      const t0 = started.get(request);
      if (t0 !== undefined) s.timed.observe((performance.now() - t0) / 1000);
    },
  };
}
