// Routes: /api/v1/orgs/{org}/projects/{project}/envs/{env}/services (hierarchical family).
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { okResponse } from "../auth/model";
import { envAccess } from "../envs/access";
import { serviceAccess } from "./access";
import { withActor } from "../auth/context";
import { applicationSummary, createServiceRequest, envParams, patchServiceRequest, serviceDetail, serviceParams } from "./model";
import * as svc from "./service";
import { domainsResponse } from "../certificates/model";

export const serviceRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/orgs/:org/projects/:project/envs/:env/services", detail: { tags: ["services"] } })
    .use(withActor(deps))
    .get("/", ({ actor, params: p }) => svc.summariesResponse(deps, envAccess(deps, actor, p.org, p.project, p.env).env.id), {
      params: envParams,
      response: { 200: z.array(applicationSummary) },
    })
    .post(
      "/",
      async ({ actor, params: p, body, set }) => ((set.status = 201), await svc.createService(deps, envAccess(deps, actor, p.org, p.project, p.env), body)),
      { params: envParams, body: createServiceRequest, response: { 201: serviceDetail } },
    )
    .get("/:svc", ({ actor, params: p }) => svc.getService(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc)), {
      params: serviceParams,
      response: { 200: serviceDetail },
    })
    .patch("/:svc", async ({ actor, params: p, body }) => await svc.patchService(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), body), {
      params: serviceParams,
      body: patchServiceRequest,
      response: { 200: serviceDetail },
    })
    .delete("/:svc", ({ actor, params: p, query }) => svc.deleteService(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), { deleteVolumes: query.delete_volumes === "true" }), {
      params: serviceParams,
      query: z.object({ delete_volumes: z.enum(["true", "false"]).optional() }),
      response: { 200: okResponse },
    })
    .get("/:svc/domains", ({ actor, params: p }) => svc.serviceDomains(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc)), {
      params: serviceParams,
      response: { 200: domainsResponse },
      detail: { summary: "A service's hostnames and the state of their HTTPS certificates (never the certificates or keys)" },
    });
