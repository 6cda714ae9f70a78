// Routes: /api/v1/applications (reference family). `{application_id}` routes exist twice: id form
// `/:org/<suffix>` and path form `/:org/:project/:app/<suffix>` (see applicationRef for naming).
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { isUuid } from "../../lib/ids";
import { okResponse } from "../auth/model";
import { requireUser } from "../auth/service";
import { applicationRef } from "./access";
import { withActor } from "../auth/context";
import { applicationSummary, patchServiceRequest, scaleRequest, serviceDetail, updateSettingsRequest } from "../services/model";
import { appParams, createApplicationRequest, createInProjectRequest, idParams, projectParams } from "./model";
import { notBuiltRoutes } from "./not-built";
import * as svc from "./service";
import { AppError } from "../../errors";

/**
 * A service id is never an organization slug: `/{id}/<word>` with no route of its own is an id
 * route Ancla does not have, so it must not reach the `{org}/{project}` handlers (whose body
 * rules would answer 422 "name: Invalid input"). Runs before validation.
 */
const idRouteGuard = ({ params, request }: { params: Record<string, string>; request: Request }) => {
  if (isUuid(params.org ?? "")) throw new AppError(404, `No route ${request.method} /api/v1/applications/{application_id}/${params.project}.`, "not_found", 4);
};

export const applicationRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/applications", detail: { tags: ["applications"] } })
    .use(withActor(deps))
    .post("/", async ({ actor, body, set }) => ((set.status = 201), await svc.createApplication(deps, actor, body)), {
      body: createApplicationRequest,
      response: { 201: serviceDetail },
    })
    .use(notBuiltRoutes(deps))
    .get("/:org/:project", ({ actor, params: p }) => svc.listApplicationsResponse(deps, actor, p.org, p.project), {
      transform: idRouteGuard,
      params: projectParams,
      response: { 200: z.array(applicationSummary) },
    })
    .post("/:org/:project", async ({ actor, params: p, body, set }) => ((set.status = 201), await svc.createInProject(deps, actor, p.org, p.project, body)), {
      transform: idRouteGuard,
      params: projectParams,
      body: createInProjectRequest,
      response: { 201: serviceDetail },
    })
    .get("/:org/:project/:app", ({ actor, params }) => svc.getApplication(deps, actor, applicationRef(params)), {
      params: appParams,
      response: { 200: serviceDetail },
    })
    .patch("/:org/:project/:app", async ({ actor, params, body }) => await svc.patchApplication(deps, actor, applicationRef(params), body), {
      params: appParams,
      body: patchServiceRequest,
      response: { 200: serviceDetail },
    })
    .delete("/:org/:project/:app", ({ actor, params }) => svc.deleteApplication(deps, actor, applicationRef(params)), {
      params: appParams,
      response: { 200: okResponse },
    })
    .patch("/:org/settings", async ({ actor, params, body }) => await svc.patchApplication(deps, actor, applicationRef(params), body), {
      params: idParams,
      body: updateSettingsRequest,
      response: { 200: serviceDetail },
    })
    .patch("/:org/:project/:app/settings", async ({ actor, params, body }) => await svc.patchApplication(deps, actor, applicationRef(params), body), {
      params: appParams,
      body: updateSettingsRequest,
      response: { 200: serviceDetail },
    })
    // `/:org/scale` also shadows `POST /applications/{org}/scale` (create an app in project "scale"),
    // so its body is validated here, by which of the two the path means.
    .post(
      "/:org/scale",
      async ({ actor, params, body, set }) => {
        requireUser(actor); // 401 before the body is judged
        set.status = 201;
        if (isUuid(params.org)) return svc.scaleApplication(deps, actor, params.org, svc.parseBody(scaleRequest, body));
        return await svc.createInProject(deps, actor, params.org, "scale", svc.parseBody(createInProjectRequest, body));
      },
      { params: idParams, response: { 201: serviceDetail } },
    )
    .post(
      "/:org/:project/:app/scale",
      ({ actor, params, body, set }) => ((set.status = 201), svc.scaleApplication(deps, actor, applicationRef(params), body)),
      { params: appParams, body: scaleRequest, response: { 201: serviceDetail } },
    );
