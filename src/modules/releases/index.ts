// Routes: /api/v1/releases (reference family) and services/{svc}/releases|deploy (hierarchical).
// Segments after /releases are named :org/:project/:app like every `{application_id}` module
// (see applicationRef): `/:org/<suffix>` holds an id, `/:org/:project/:app/<suffix>` a path.
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { NotFound, Unprocessable } from "../../errors";
import { pageQuery } from "../../lib/pagination";
import type { Actor } from "../auth/service";
import { withActor } from "../auth/context";
import { applicationAccess, applicationRef } from "../applications/access";
import { serviceAccess, serviceAccessById, type ServiceAccess } from "../services/access";
import { deployServiceVersion, enqueueDeploy } from "../deployments/service";
import * as repo from "./repo";
import {
  appParams,
  idParams,
  releaseCreateResponse,
  releaseDeployResponse,
  releaseDetail,
  releaseListResponse,
  releaseLogResponse,
  releaseSummary,
  serviceDeployRequest,
  serviceDeployResponse,
  serviceParams,
  versionParams,
} from "./model";
import * as svc from "./service";

function releaseAccess(deps: Deps, actor: Actor | null, id: string): { release: repo.ReleaseRow; access: ServiceAccess } {
  const release = repo.findRelease(deps.db, id);
  if (!release) {
    serviceAccessById(deps, actor, "00000000-0000-7000-8000-000000000000").service; // 401 before 404
    throw new NotFound("Release");
  }
  try {
    return { release, access: serviceAccessById(deps, actor, release.serviceId) };
  } catch (e) {
    throw e instanceof NotFound ? new NotFound("Release") : e;
  }
}

const createFor = (deps: Deps, actor: Actor | null, ref: string) => {
  const r = svc.createRelease(deps, applicationAccess(deps, actor, ref));
  return { ok: true, release_id: r.id, version: r.version };
};

function parseDeployBody(body: unknown): { version?: number } {
  const parsed = serviceDeployRequest.safeParse(body ?? {});
  if (parsed.success) return parsed.data;
  const errors = parsed.error.issues.map((i) => ({ path: i.path.join(".") || "body", message: i.message }));
  throw new Unprocessable(`${errors[0]!.path}: ${errors[0]!.message}`, errors);
}

const referenceRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/releases", detail: { tags: ["releases"] } })
    .use(withActor(deps))
    .get("/:org", ({ actor, params, query }) => svc.listReleasePage(deps, applicationAccess(deps, actor, params.org), query), {
      params: idParams,
      query: pageQuery,
      response: { 200: releaseListResponse },
    })
    .get("/:org/:project/:app", ({ actor, params, query }) => svc.listReleasePage(deps, applicationAccess(deps, actor, applicationRef(params)), query), {
      params: appParams,
      query: pageQuery,
      response: { 200: releaseListResponse },
    })
    .post("/:org/create", ({ actor, params, set }) => ((set.status = 201), createFor(deps, actor, params.org)), {
      params: idParams,
      response: { 201: releaseCreateResponse },
    })
    .post("/:org/:project/:app/create", ({ actor, params, set }) => ((set.status = 201), createFor(deps, actor, applicationRef(params))), {
      params: appParams,
      response: { 201: releaseCreateResponse },
    })
    .get(
      "/:org/detail",
      ({ actor, params }) => {
        const { release, access } = releaseAccess(deps, actor, params.org);
        return svc.toReleaseDetail(release, access.service.platform);
      },
      { params: idParams, response: { 200: releaseDetail } },
    )
    .get("/:org/log", ({ actor, params }) => svc.toReleaseLog(releaseAccess(deps, actor, params.org).release), {
      params: idParams,
      response: { 200: releaseLogResponse },
    })
    .post(
      "/:org/deploy",
      ({ actor, params, set }) => {
        const { release, access } = releaseAccess(deps, actor, params.org);
        const d = enqueueDeploy(deps, access, release.id);
        set.status = 201;
        return { ok: true, deployment_id: d.id };
      },
      { params: idParams, response: { 201: releaseDeployResponse } },
    );

const hierarchicalRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/orgs/:org/projects/:project/envs/:env/services/:svc", detail: { tags: ["releases"] } })
    .use(withActor(deps))
    .get(
      "/releases",
      ({ actor, params: p }) => {
        const access = serviceAccess(deps, actor, p.org, p.project, p.env, p.svc);
        return repo.listReleases(deps.db, access.service.id, 50).map((r) => svc.toReleaseSummary(r, access.service.platform));
      },
      { params: serviceParams, response: { 200: z.array(releaseSummary) } },
    )
    .get(
      "/releases/:version",
      ({ actor, params: p }) => {
        const access = serviceAccess(deps, actor, p.org, p.project, p.env, p.svc);
        return svc.toReleaseDetail(svc.releaseByVersion(deps, access, p.version), access.service.platform);
      },
      { params: versionParams, response: { 200: releaseDetail } },
    )
    .get(
      "/releases/:version/log",
      ({ actor, params: p }) => svc.toReleaseLog(svc.releaseByVersion(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), p.version)),
      { params: versionParams, response: { 200: releaseLogResponse } },
    )
    .post(
      "/deploy",
      ({ actor, params: p, body, set }) => {
        const access = serviceAccess(deps, actor, p.org, p.project, p.env, p.svc);
        const d = deployServiceVersion(deps, access, parseDeployBody(body).version);
        const release = repo.findRelease(deps.db, d.releaseId)!;
        set.status = 201;
        return { ok: true, deployment_id: d.id, release_id: release.id, release_version: release.version };
      },
      { params: serviceParams, response: { 201: serviceDeployResponse } },
    );

export const releaseRoutes = (deps: Deps) => new Elysia().use(referenceRoutes(deps)).use(hierarchicalRoutes(deps));
