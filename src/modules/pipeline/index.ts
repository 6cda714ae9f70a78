// Routes: POST /applications/{id}/deploy, GET /applications/{id}/pipeline-status|pipeline-metrics
// (reference family, id and path forms) and below /orgs/{org}/projects/{project}: pipeline/deploy,
// envs/{env}/deploy, pipeline/rollback, pipeline/status|metrics|history (hierarchical family).
// Deploy bodies may be a tar build context, so those routes read the request stream themselves.
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { BadRequest } from "../../errors";
import { JSON_LIMIT, keepStream, mediaType, parseSmallBody, readTextLimited } from "../../lib/body-limit";
import { isUuid } from "../../lib/ids";
import type { Actor } from "../auth/service";
import { requireUser } from "../auth/service";
import { withActor } from "../auth/context";
import { createInProject, listApplications, parseBody } from "../applications/service";
import { createInProjectRequest } from "../applications/model";
import { applicationSummary, serviceDetail } from "../services/model";
import { applicationAccess, applicationRef } from "../applications/access";
import { serviceAccess } from "../services/access";
import { pipelineMetrics } from "./metrics";
import {
  appParams,
  deployTriggerResponse,
  envDeployQuery,
  envParams,
  historyItem,
  idParams,
  pipelineMetricsResponse,
  pipelineQuery,
  pipelineStatusResponse,
  projectParams,
  rollbackResponse,
  runParams,
} from "./model";
import * as svc from "./service";


async function jsonBody(request: Request): Promise<unknown> {
  const text = await readTextLimited(request, JSON_LIMIT, "JSON body larger than 1 MiB.");
  if (!text.trim()) return {};
  try {
    return JSON.parse(text);
  } catch {
    throw new BadRequest("Malformed JSON body.");
  }
}

const appDeploy = (deps: Deps, actor: Actor | null, ref: string, request: Request) => svc.deployFromRequest(deps, applicationAccess(deps, actor, ref), request);
const appStatus = (deps: Deps, actor: Actor | null, ref: string) => svc.pipelineStatus(deps, applicationAccess(deps, actor, ref).service.id);
const appMetrics = (deps: Deps, actor: Actor | null, ref: string) => pipelineMetrics(deps, applicationAccess(deps, actor, ref).service.id);

// `/:org/<suffix>` also shadows `/:org/:project` with project = suffix (see applicationRef): a
// non-UUID `:org` means that route (list or create the applications of project "<suffix>").
const referenceRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/applications", detail: { tags: ["applications"] } })
    .use(withActor(deps))
    .post(
      "/:org/deploy",
      async ({ actor, params, request, set }) => {
        requireUser(actor);
        set.status = 201;
        if (isUuid(params.org)) return appDeploy(deps, actor, params.org, request);
        // a route that takes an archive: the global parser leaves its body unread (lib/body-limit.ts keepStream),
        // so the form types its sibling routes take are read here as they are there
        const type = mediaType(request);
        const form = type === "application/x-www-form-urlencoded" || type === "multipart/form-data";
        const input = form ? await parseSmallBody(request, type, JSON_LIMIT, "Request body larger than 1 MiB.") : await jsonBody(request);
        return createInProject(deps, actor, params.org, "deploy", parseBody(createInProjectRequest, input));
      },
      { params: idParams, parse: keepStream, response: { 201: z.union([deployTriggerResponse, serviceDetail]) }, detail: { summary: "Build, release and deploy (optional tar body)" } },
    )
    .post("/:org/:project/:app/deploy", async ({ actor, params, request, set }) => ((set.status = 201), await appDeploy(deps, actor, applicationRef(params), request)), {
      params: appParams,
      parse: keepStream,
      response: { 201: deployTriggerResponse },
    })
    .get(
      "/:org/pipeline-status",
      ({ actor, params }) => (isUuid(params.org) ? appStatus(deps, actor, params.org) : listApplications(deps, actor, params.org, "pipeline-status")),
      { params: idParams, response: { 200: z.union([pipelineStatusResponse, z.array(applicationSummary)]) } },
    )
    .get("/:org/:project/:app/pipeline-status", ({ actor, params }) => appStatus(deps, actor, applicationRef(params)), {
      params: appParams,
      response: { 200: pipelineStatusResponse },
    })
    .get(
      "/:org/pipeline-metrics",
      ({ actor, params }) => (isUuid(params.org) ? appMetrics(deps, actor, params.org) : listApplications(deps, actor, params.org, "pipeline-metrics")),
      { params: idParams, response: { 200: z.union([pipelineMetricsResponse, z.array(applicationSummary)]) } },
    )
    .get("/:org/:project/:app/pipeline-metrics", ({ actor, params }) => appMetrics(deps, actor, applicationRef(params)), {
      params: appParams,
      response: { 200: pipelineMetricsResponse },
    });

const hierarchicalRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/orgs/:org/projects/:project", detail: { tags: ["pipeline"] } })
    .use(withActor(deps))
    .post(
      "/pipeline/deploy",
      async ({ actor, params: p, query, request, set }) => ((set.status = 201), await svc.deployFromRequest(deps, svc.queryAccess(deps, actor, p.org, p.project, query), request)),
      { params: projectParams, query: pipelineQuery, parse: keepStream, response: { 201: deployTriggerResponse } },
    )
    .post(
      "/envs/:env/deploy",
      async ({ actor, params: p, query, request, set }) =>
        ((set.status = 201), await svc.deployFromRequest(deps, serviceAccess(deps, actor, p.org, p.project, p.env, query.service), request)),
      { params: envParams, query: envDeployQuery, parse: keepStream, response: { 201: deployTriggerResponse } },
    )
    .post("/pipeline/rollback", ({ actor, params: p, query, set }) => ((set.status = 201), svc.rollback(deps, svc.queryAccess(deps, actor, p.org, p.project, query), { runReleasePhase: query.run_release_phase === "true" })), {
      params: projectParams,
      query: pipelineQuery,
      parse: keepStream, // no body is read
      response: { 201: rollbackResponse },
    })
    .get("/pipeline/status", ({ actor, params: p, query }) => svc.pipelineStatus(deps, svc.queryAccess(deps, actor, p.org, p.project, query).service.id), {
      params: projectParams,
      query: pipelineQuery,
      response: { 200: pipelineStatusResponse },
    })
    .get("/pipeline/metrics", ({ actor, params: p, query }) => pipelineMetrics(deps, svc.queryAccess(deps, actor, p.org, p.project, query).service.id), {
      params: projectParams,
      query: pipelineQuery,
      response: { 200: pipelineMetricsResponse },
    })
    .get(
      "/pipeline/history",
      ({ actor, params: p, query }) => svc.pipelineHistory(deps, svc.queryAccess(deps, actor, p.org, p.project, query).service.id, query.limit),
      { params: projectParams, query: pipelineQuery, response: { 200: z.array(historyItem) } },
    )
    .get("/pipeline/runs/:id", ({ actor, params: p }) => svc.pipelineRun(deps, actor, p.org, p.project, p.id), {
      params: runParams,
      response: { 200: historyItem },
    });

export const pipelineRoutes = (deps: Deps) => new Elysia().use(referenceRoutes(deps)).use(hierarchicalRoutes(deps));
export { pipelineStatus, startPipeline, startSystemPipeline, rollback, PIPELINE_JOB } from "./service";
