// The router's per-request callback: service id → org/project/env/service labels (looked up again
// only for a service not seen before, at most once a second), then the router counter and latency
// (lib/metrics' plain structures; each service's series are kept, not hashed per request).
import type { Deps } from "../../deps";
import { metricsOf, type CounterSeries, type HistogramSeries } from "../../lib/metrics";
import { routableServices } from "../deployments/repo";

type Labels = { org: string; project: string; env: string; service: string };
type Known = { labels: Labels; timed: HistogramSeries; counted: Map<number, CounterSeries> };

export function routerMetrics(deps: Deps): (serviceId: string, status: number, seconds: number) => void {
  const m = metricsOf(deps);
  let known = new Map<string, Known>();
  let loadedAt = 0;
  const knownOf = (id: string): Known | undefined => {
    if (!known.has(id) && Date.now() - loadedAt > 1000) {
      loadedAt = Date.now();
      const before = known;
      known = new Map(
        routableServices(deps.db).map((s) => {
          const labels = { org: s.org, project: s.project, env: s.env, service: s.service };
          const old = before.get(s.id);
          const same = old && old.labels.org === labels.org && old.labels.project === labels.project && old.labels.env === labels.env && old.labels.service === labels.service;
          return [s.id, same ? old : { labels, timed: m.routerDuration.labels(labels), counted: new Map() }];
        }),
      );
    }
    return known.get(id);
  };
  return (serviceId, status, seconds) => {
    const k = knownOf(serviceId);
    if (!k) return;
    let c = k.counted.get(status);
    if (!c) k.counted.set(status, (c = m.routerRequests.labels({ ...k.labels, status: String(status) })));
    c.inc();
    k.timed.observe(seconds);
  };
}
