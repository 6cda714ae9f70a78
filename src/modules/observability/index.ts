// Routes: GET /applications/{application_id}/observability (reference family, id and path forms)
// and GET /orgs/{org}/projects/{project}/observability/?service=&env=&range= (what the dashboard calls).
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { isUuid } from "../../lib/ids";
import type { Actor } from "../auth/service";
import { withActor } from "../auth/context";
import { listApplications } from "../applications/service";
import { applicationAccess, applicationRef } from "../applications/access";
import { applicationSummary } from "../services/model";
import { appParams, idParams, projectParams } from "../pipeline/model";
import { queryAccess } from "../pipeline/service";
import { observabilityQuery, observabilityResponse, projectObservabilityQuery, type RangeName } from "./model";
import { observability } from "./service";
import { authorizeScrape, exposition } from "./exposition";

const byRef = (deps: Deps, actor: Actor | null, ref: string, range: RangeName) => observability(deps, applicationAccess(deps, actor, ref).service.id, range);

// `/:org/observability` shadows `/:org/:project` with project = "observability" (the router
// prefers the static segment): a non-UUID `:org` means that route, as for pipeline-status.
const referenceRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/applications", detail: { tags: ["applications"] } })
    .use(withActor(deps))
    .get(
      "/:org/observability",
      ({ actor, params, query }) => (isUuid(params.org) ? byRef(deps, actor, params.org, query.range) : listApplications(deps, actor, params.org, "observability")),
      {
        params: idParams,
        query: observabilityQuery,
        response: { 200: z.union([observabilityResponse, z.array(applicationSummary)]) },
        detail: { summary: "CPU, memory, replica and restart history of an application (id form)" },
      },
    )
    .get("/:org/:project/:app/observability", ({ actor, params, query }) => byRef(deps, actor, applicationRef(params), query.range), {
      params: appParams,
      query: observabilityQuery,
      response: { 200: observabilityResponse },
      detail: { summary: "CPU, memory, replica and restart history of an application (path form)" },
    });

const hierarchicalRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/orgs/:org/projects/:project", detail: { tags: ["observability"] } })
    .use(withActor(deps))
    .get("/observability", ({ actor, params: p, query }) => observability(deps, queryAccess(deps, actor, p.org, p.project, query).service.id, query.range), {
      params: projectParams,
      query: projectObservabilityQuery,
      response: { 200: observabilityResponse },
      detail: { summary: "CPU, memory, replica and restart history of a service (?service=&env=&range=)" },
    });

// no withActor: a scraper authenticates with --metrics-token instead of a user
const metricsRoute = (deps: Deps) =>
  new Elysia({ detail: { tags: ["observability"] } }).get(
    "/metrics",
    async ({ request, set }) => {
      authorizeScrape(deps, request);
      const { body, contentType } = await exposition(deps);
      set.headers["content-type"] = contentType;
      return body;
    },
    { detail: { summary: "Prometheus metrics (server admin, or Authorization: Bearer <--metrics-token>)" } },
  );

export const observabilityRoutes = (deps: Deps) => new Elysia().use(referenceRoutes(deps)).use(hierarchicalRoutes(deps)).use(metricsRoute(deps));
export { startSampler, type Sampler } from "./sampler";
export { requestMetrics } from "./http-metrics";
export { routerMetrics } from "./router-metrics";
