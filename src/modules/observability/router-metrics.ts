// The router's per-request callback: service id → org/project/env/service labels (looked up again
// only for a service not seen before, at most once a second), then the router counter and latency.
import type { Deps } from "../../deps";
import { metricsOf } from "../../lib/metrics";
import { routableServices } from "../deployments/repo";

type Labels = { org: string; project: string; env: string; service: string };

export function routerMetrics(deps: Deps): (serviceId: string, status: number, seconds: number) => void {
  const m = metricsOf(deps);
  let labels = new Map<string, Labels>();
  let loadedAt = 0;
  const labelsOf = (id: string): Labels | undefined => {
    if (!labels.has(id) && Date.now() - loadedAt > 1000) {
      loadedAt = Date.now();
      labels = new Map(routableServices(deps.db).map((s) => [s.id, { org: s.org, project: s.project, env: s.env, service: s.service }]));
    }
    return labels.get(id);
  };
  return (serviceId, status, seconds) => {
    const l = labelsOf(serviceId);
    if (!l) return;
    m.routerRequests.inc({ ...l, status: String(status) });
    m.routerDuration.observe(l, seconds);
  };
}
