// Routes: /api/v1/projects (reference family, plus the SDKs' /projects/{org}) and
// /api/v1/orgs/{org}/projects (hierarchical family).
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { okResponse } from "../auth/model";
import { createProjectInOrgRequest, createProjectRequest, listProjectsQuery, orgParams, patchProjectRequest, projectDetail, projectParams, projectSummary } from "./model";
import { withActor } from "../auth/context";
import * as svc from "./service";

/** Routes below one organization, mounted at /projects/{org} and /orgs/{org}/projects. */
const inOrg = (deps: Deps, prefix: string) =>
  new Elysia({ prefix, detail: { tags: ["projects"] } })
    .use(withActor(deps))
    .get("/", ({ actor, params }) => svc.listProjects(deps, actor, params.org), { params: orgParams, response: { 200: z.array(projectSummary) } })
    .post("/", ({ actor, params, body, set }) => ((set.status = 201), svc.createProject(deps, actor, params.org, body)), {
      params: orgParams,
      body: createProjectInOrgRequest,
      response: { 201: projectDetail },
    })
    .get("/:project", ({ actor, params: p }) => svc.getProject(deps, actor, p.org, p.project), { params: projectParams, response: { 200: projectDetail } })
    .patch("/:project", ({ actor, params: p, body }) => svc.patchProject(deps, actor, p.org, p.project, body), {
      params: projectParams,
      body: patchProjectRequest,
      response: { 200: projectDetail },
    })
    .delete("/:project", ({ actor, params: p }) => svc.deleteProject(deps, actor, p.org, p.project), {
      params: projectParams,
      response: { 200: okResponse },
    });

const topLevel = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/projects", detail: { tags: ["projects"] } })
    .use(withActor(deps))
    .get("/", ({ actor, query }) => svc.listProjects(deps, actor, query.org), { query: listProjectsQuery, response: { 200: z.array(projectSummary) } })
    .post("/", ({ actor, body, set }) => ((set.status = 201), svc.createProject(deps, actor, body.organization_id, body)), {
      body: createProjectRequest,
      response: { 201: projectDetail },
    });

export const projectRoutes = (deps: Deps) =>
  new Elysia().use(topLevel(deps)).use(inOrg(deps, "/api/v1/projects/:org")).use(inOrg(deps, "/api/v1/orgs/:org/projects"));
