// Routes below /orgs/{org}/projects/{project}: GET promote/preview, POST promote, and the
// promotion records (GET promotions, promotions/{id}).
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { withActor } from "../auth/context";
import { projectAccess } from "../projects/access";
import { previewQuery, projectParams, promoteRequest, promotionDetail, promotionParams, promotionPreview } from "./model";
import * as svc from "./service";

export const promotionRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/orgs/:org/projects/:project", detail: { tags: ["promotions"] } })
    .use(withActor(deps))
    .get("/promote/preview", ({ actor, params: p, query }) => svc.previewPromotion(deps, actor, p.org, p.project, query), {
      params: projectParams,
      query: previewQuery,
      response: { 200: promotionPreview },
    })
    .post("/promote", async ({ actor, params: p, body, set }) => ((set.status = 201), await svc.promote(deps, actor, p.org, p.project, body)), {
      params: projectParams,
      body: promoteRequest,
      response: { 201: promotionDetail },
    })
    .get("/promotions", ({ actor, params: p }) => svc.listProjectPromotions(deps, projectAccess(deps, actor, p.org, p.project).project.id), {
      params: projectParams,
      response: { 200: z.array(promotionDetail) },
    })
    .get("/promotions/:id", ({ actor, params: p }) => svc.promotionById(deps, projectAccess(deps, actor, p.org, p.project).project.id, p.id), {
      params: promotionParams,
      response: { 200: promotionDetail },
    });
