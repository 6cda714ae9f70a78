// Routes: /api/v1/orgs/{org}/projects/{project}/envs (hierarchical family).
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { okResponse } from "../auth/model";
import { createEnvRequest, envCheckResponse, envParams, envResponse, patchEnvRequest, projectParams } from "./model";
import { withActor } from "../auth/context";
import * as svc from "./service";

export const envRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/orgs/:org/projects/:project/envs", detail: { tags: ["environments"] } })
    .use(withActor(deps))
    .get("/", ({ actor, params: p }) => svc.listEnvs(deps, actor, p.org, p.project), {
      params: projectParams,
      response: { 200: z.array(envResponse) },
    })
    .post("/", ({ actor, params: p, body, set }) => ((set.status = 201), svc.createEnv(deps, actor, p.org, p.project, body)), {
      params: projectParams,
      body: createEnvRequest,
      response: { 201: envResponse },
    })
    .get("/:env", ({ actor, params: p }) => svc.getEnv(deps, actor, p.org, p.project, p.env), { params: envParams, response: { 200: envResponse } })
    .patch("/:env", ({ actor, params: p, body }) => svc.patchEnv(deps, actor, p.org, p.project, p.env, body), {
      params: envParams,
      body: patchEnvRequest,
      response: { 200: envResponse },
    })
    .post("/:env/check", ({ actor, params: p }) => svc.checkEnv(deps, actor, p.org, p.project, p.env), {
      params: envParams,
      response: { 200: envCheckResponse },
      detail: { summary: "Check the environment's target: API server, namespace rights and registry login (Kubernetes), or the Docker engine" },
    })
    .delete("/:env", ({ actor, params: p }) => svc.deleteEnv(deps, actor, p.org, p.project, p.env), {
      params: envParams,
      response: { 200: okResponse },
    });
