// Routes: /api/v1/releases (reference family) and services/{svc}/releases (hierarchical). Deploying
// a release is the deployments module's (its routes below /releases/{id}/deploy and …/deploy).
// Segments after /releases are named :org/:project/:app like every `{application_id}` module
// (see applicationRef): `/:org/<suffix>` holds an id, `/:org/:project/:app/<suffix>` a path.
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { pageQuery } from "../../lib/pagination";
import type { Actor } from "../auth/service";
import { withActor } from "../auth/context";
import { applicationAccess, applicationRef } from "../applications/access";
import { serviceAccess } from "../services/access";
import * as repo from "./repo";
import {
  appParams,
  idParams,
  releaseCreateResponse,
  releaseDetail,
  releaseListResponse,
  releaseLogResponse,
  releaseSummary,
  serviceParams,
  versionParams,
} from "./model";
import * as svc from "./service";

const createFor = (deps: Deps, actor: Actor | null, ref: string) => {
  const r = svc.createRelease(deps, applicationAccess(deps, actor, ref));
  return { ok: true, release_id: r.id, version: r.version };
};

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
        const { release, access } = svc.releaseAccessById(deps, actor, params.org);
        return svc.toReleaseDetail(release, access.service.platform);
      },
      { params: idParams, response: { 200: releaseDetail } },
    )
    .get("/:org/log", ({ actor, params }) => svc.toReleaseLog(svc.releaseAccessById(deps, actor, params.org).release), {
      params: idParams,
      response: { 200: releaseLogResponse },
    });

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
    );

export const releaseRoutes = (deps: Deps) => new Elysia().use(referenceRoutes(deps)).use(hierarchicalRoutes(deps));
