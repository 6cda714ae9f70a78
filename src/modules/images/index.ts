// Routes: /api/v1/images/* (reference family; {application_id} as a service id or org/project/app)
// and .../envs/{env}/services/{svc}/images (hierarchical). Build bodies are tar streams, so the
// build routes skip body parsing and read the request stream themselves.
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { pageQuery } from "../../lib/pagination";
import { withActor } from "../auth/context";
import { applicationAccess } from "../applications/access";
import { serviceAccess } from "../services/access";
import { imageBuildResponse, imageDetail, imageListResponse, imageLogResponse, logQuery } from "./model";
import * as svc from "./service";
import { buildFromRequest } from "./upload";
import { wantsEventStream } from "../../lib/live-stream";
import { keepStream } from "../../lib/body-limit";

// Answers the parse step without reading the body, so buildFromRequest can stream it to disk.
// (`parse: "none"` only applies when a route has no other parser; app.ts adds a global JSON one.)

const seg = z.string().min(1).max(255);
// One param name per position: Elysia's router rejects `/:application_id` next to `/:image_id/…`,
// so `{application_id}` and `{image_id}` of the reference contract are both `:id` here.
const idParams = z.object({ id: seg });
const pathFormParams = z.object({ id: seg, project: seg, app: seg });
const serviceParams = z.object({ org: seg, project: seg, env: seg, svc: seg });
const versionParams = serviceParams.extend({ version: z.coerce.number().int().min(1).max(1_000_000_000) });

const referenceRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/images", detail: { tags: ["images"] } })
    .use(withActor(deps))
    .get("/:id", ({ actor, params, query }) => svc.listImages(deps, applicationAccess(deps, actor, params.id), query), {
      params: idParams,
      query: pageQuery,
      response: { 200: imageListResponse },
    })
    .get("/:id/:project/:app", ({ actor, params: p, query }) => svc.listImages(deps, applicationAccess(deps, actor, `${p.id}/${p.project}/${p.app}`), query), {
      params: pathFormParams,
      query: pageQuery,
      response: { 200: imageListResponse },
    })
    .post(
      "/:id/build",
      async ({ actor, params, request, set }) => ((set.status = 201), await buildFromRequest(deps, applicationAccess(deps, actor, params.id), request)),
      { params: idParams, parse: keepStream, response: { 201: imageBuildResponse } },
    )
    .post(
      "/:id/:project/:app/build",
      async ({ actor, params: p, request, set }) =>
        ((set.status = 201), await buildFromRequest(deps, applicationAccess(deps, actor, `${p.id}/${p.project}/${p.app}`), request)),
      { params: pathFormParams, parse: keepStream, response: { 201: imageBuildResponse } },
    )
    .get("/:id/detail", ({ actor, params }) => svc.toDetail(svc.imageById(deps, actor, params.id)), { params: idParams, response: { 200: imageDetail } })
    .get(
      "/:id/log",
      ({ actor, params, query, request }) => {
        const row = svc.imageById(deps, actor, params.id);
        // Accept: text/event-stream follows the build live (Server-Sent Events) until it ends
        return wantsEventStream(request) ? svc.imageLogEvents(deps, row, request, query.after) : svc.imageLog(deps, row, query.after);
      },
      {
        params: idParams,
        query: logQuery,
        response: { 200: imageLogResponse },
        detail: { summary: "Build log (with Accept: text/event-stream: followed live as Server-Sent Events until the build ends)" },
      },
    );

const hierarchicalRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/orgs/:org/projects/:project/envs/:env/services/:svc/images", detail: { tags: ["images"] } })
    .use(withActor(deps))
    .get("/", ({ actor, params: p, query }) => svc.listImages(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), query), {
      params: serviceParams,
      query: pageQuery,
      response: { 200: imageListResponse },
    })
    .post(
      "/build",
      async ({ actor, params: p, request, set }) => ((set.status = 201), await buildFromRequest(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), request)),
      { params: serviceParams, parse: keepStream, response: { 201: imageBuildResponse } },
    )
    .get("/:version", ({ actor, params: p }) => svc.toDetail(svc.imageByVersion(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), p.version)), {
      params: versionParams,
      response: { 200: imageDetail },
    })
    .get(
      "/:version/log",
      ({ actor, params: p, query, request }) => {
        const row = svc.imageByVersion(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), p.version);
        return wantsEventStream(request) ? svc.imageLogEvents(deps, row, request, query.after) : svc.imageLog(deps, row, query.after);
      },
      { params: versionParams, query: logQuery, response: { 200: imageLogResponse } },
    );

export const imageRoutes = (deps: Deps) => new Elysia().use(referenceRoutes(deps)).use(hierarchicalRoutes(deps));

export { buildStageStatus, enqueueBuild, latestImageDetail, latestImageVersions, NOTHING_TO_BUILD, BUILD_JOB, type BuildSource } from "./service";
export { receiveContext } from "./context-store";
