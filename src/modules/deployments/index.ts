// Routes: /api/v1/deployments/{id}/detail|log, /applications/{id}/deployments and the
// hierarchical envs/{env}/deployments[/{id}[/log]]. Importing this module registers the deploy job.
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { pageQuery } from "../../lib/pagination";
import { withActor } from "../auth/context";
import { applicationAccess, applicationRef } from "../applications/access";
import { envAccess } from "../envs/access";
import { findServiceById } from "../services/repo";
import { appParams, deploymentDetail, deploymentListResponse, deploymentLogResponse, deploymentParams, envDeploymentParams, envParams, idParams } from "./model";
import * as svc from "./service";
import "./runner";

const platformOf = (deps: Deps, serviceId: string) => findServiceById(deps.db, serviceId)?.platform ?? "wind";

export const deploymentRoutes = (deps: Deps) =>
  new Elysia({ detail: { tags: ["deployments"] } })
    .use(withActor(deps))
    .get(
      "/api/v1/deployments/:deployment_id/detail",
      ({ actor, params }) => {
        const { deployment, access } = svc.deploymentAccess(deps, actor, params.deployment_id);
        return svc.toDeploymentDetail(deps, deployment, access.service.platform);
      },
      { params: deploymentParams, response: { 200: deploymentDetail } },
    )
    .get("/api/v1/deployments/:deployment_id/log", ({ actor, params }) => svc.toDeploymentLog(deps, svc.deploymentAccess(deps, actor, params.deployment_id).deployment), {
      params: deploymentParams,
      response: { 200: deploymentLogResponse },
    })
    .get("/api/v1/applications/:org/deployments", ({ actor, params, query }) => svc.listDeploymentPage(deps, applicationAccess(deps, actor, params.org), query), {
      params: idParams,
      query: pageQuery,
      response: { 200: deploymentListResponse },
    })
    .get(
      "/api/v1/applications/:org/:project/:app/deployments",
      ({ actor, params, query }) => svc.listDeploymentPage(deps, applicationAccess(deps, actor, applicationRef(params)), query),
      { params: appParams, query: pageQuery, response: { 200: deploymentListResponse } },
    )
    .get("/api/v1/orgs/:org/projects/:project/envs/:env/deployments", ({ actor, params: p }) => svc.listEnvDeployments(deps, envAccess(deps, actor, p.org, p.project, p.env)), {
      params: envParams,
      response: { 200: z.array(deploymentDetail) },
    })
    .get(
      "/api/v1/orgs/:org/projects/:project/envs/:env/deployments/:id",
      ({ actor, params: p }) => {
        const d = svc.envDeployment(deps, envAccess(deps, actor, p.org, p.project, p.env), p.id);
        return svc.toDeploymentDetail(deps, d, platformOf(deps, d.serviceId));
      },
      { params: envDeploymentParams, response: { 200: deploymentDetail } },
    )
    .get(
      "/api/v1/orgs/:org/projects/:project/envs/:env/deployments/:id/log",
      ({ actor, params: p }) => svc.toDeploymentLog(deps, svc.envDeployment(deps, envAccess(deps, actor, p.org, p.project, p.env), p.id)),
      { params: envDeploymentParams, response: { 200: deploymentLogResponse } },
    );
