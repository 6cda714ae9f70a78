// Routes: /api/v1/deployments/{id}/detail|log, /applications/{id}/deployments and the
// hierarchical envs/{env}/deployments[/{id}[/log]]; deploying a release (a rollback when it is an
// older one): POST /api/v1/releases/{release_id}/deploy and POST …/services/{svc}/deploy.
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
import { Unprocessable } from "../../errors";
import { serviceAccess } from "../services/access";
import { releaseAccessById } from "../releases/service";
import { findRelease } from "../releases/repo";
import { idParams as releaseIdParams, releaseDeployResponse, serviceDeployResponse, serviceDeployRequest, serviceParams } from "../releases/model";
import { wantsEventStream } from "../../lib/live-stream";

const platformOf = (deps: Deps, serviceId: string) => findServiceById(deps.db, serviceId)?.platform ?? "wind";

const viewRoutes = (deps: Deps) =>
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
    .get(
      "/api/v1/deployments/:deployment_id/log",
      ({ actor, params, request }) => {
        const d = svc.deploymentAccess(deps, actor, params.deployment_id).deployment;
        // Accept: text/event-stream follows the deploy live (Server-Sent Events) until it ends
        return wantsEventStream(request) ? svc.deploymentLogEvents(deps, d, request) : svc.toDeploymentLog(deps, d);
      },
      {
        params: deploymentParams,
        response: { 200: deploymentLogResponse },
        detail: { summary: "Deploy log (with Accept: text/event-stream: followed live as Server-Sent Events until the deploy ends)" },
      },
    )
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
    .get("/api/v1/orgs/:org/projects/:project/envs/:env/deployments", ({ actor, params: p }) => svc.envDeploymentsResponse(deps, actor, p), {
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
      ({ actor, params: p, request }) => {
        const d = svc.envDeployment(deps, envAccess(deps, actor, p.org, p.project, p.env), p.id);
        return wantsEventStream(request) ? svc.deploymentLogEvents(deps, d, request) : svc.toDeploymentLog(deps, d);
      },
      { params: envDeploymentParams, response: { 200: deploymentLogResponse } },
    );

function parseDeployBody(body: unknown): { version?: number; run_release_phase?: boolean } {
  const parsed = serviceDeployRequest.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((i) => ({ path: i.path.join(".") || "body", message: i.message }));
  throw new Unprocessable(`${errors[0]!.path}: ${errors[0]!.message}`, errors);
}

/** Deploy a release by id, or a service's latest release (or release N): documented with the releases. */
const releaseDeployRoutes = (deps: Deps) =>
  new Elysia({ detail: { tags: ["releases"] } })
    .use(withActor(deps))
    .post(
      "/api/v1/releases/:org/deploy",
      ({ actor, params, query, set }) => {
        const { release, access } = releaseAccessById(deps, actor, params.org);
        const d = svc.enqueueDeploy(deps, access, release.id, query.run_release_phase === "true" ? { metadata: { run_release_phase: true } } : {});
        set.status = 201;
        return { ok: true, deployment_id: d.id };
      },
      { params: releaseIdParams, query: z.object({ run_release_phase: z.enum(["true", "false"]).optional() }), response: { 201: releaseDeployResponse } },
    )
    .post(
      "/api/v1/orgs/:org/projects/:project/envs/:env/services/:svc/deploy",
      ({ actor, params: p, body, set }) => {
        const access = serviceAccess(deps, actor, p.org, p.project, p.env, p.svc);
        const parsed = parseDeployBody(body);
        const d = svc.deployServiceVersion(deps, access, parsed.version, { runReleasePhase: parsed.run_release_phase === true });
        const release = findRelease(deps.db, d.releaseId)!;
        set.status = 201;
        return { ok: true, deployment_id: d.id, release_id: release.id, release_version: release.version };
      },
      { params: serviceParams, response: { 201: serviceDeployResponse } },
    );

export const deploymentRoutes = (deps: Deps) => new Elysia().use(viewRoutes(deps)).use(releaseDeployRoutes(deps));
