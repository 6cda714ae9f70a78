// Routes: /api/v1/organizations (reference family) and /api/v1/orgs/{org} (hierarchical alias).
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { withActor } from "../auth/context";
import { okResponse } from "../auth/model";
import { addMemberRequest, createOrgRequest, memberParams, orgDetail, orgParams, orgSummary, patchOrgRequest, toggleAdminResponse } from "./model";
import * as svc from "./service";

const orgRoutesAt = (deps: Deps, prefix: string) =>
  new Elysia({ prefix, detail: { tags: ["organizations"] } })
    .use(withActor(deps))
    .get("/", ({ actor }) => svc.listOrgs(deps, actor), { response: { 200: z.array(orgSummary) } })
    .post("/", ({ actor, body, set }) => ((set.status = 201), svc.createOrg(deps, actor, body)), {
      body: createOrgRequest,
      response: { 201: orgDetail },
    })
    .get("/:org", ({ actor, params }) => svc.getOrg(deps, actor, params.org), { params: orgParams, response: { 200: orgDetail } })
    .patch("/:org", ({ actor, params, body }) => svc.patchOrg(deps, actor, params.org, body), {
      params: orgParams,
      body: patchOrgRequest,
      response: { 200: orgDetail },
    })
    .delete("/:org", ({ actor, params }) => svc.deleteOrg(deps, actor, params.org), { params: orgParams, response: { 200: okResponse } })
    .post("/:org/members", ({ actor, params, body, set }) => ((set.status = 201), svc.addMember(deps, actor, params.org, body)), {
      params: orgParams,
      body: addMemberRequest,
      response: { 201: orgDetail },
    })
    .post(
      "/:org/members/:user_id/toggle-admin",
      ({ actor, params, set }) => ((set.status = 201), svc.toggleAdmin(deps, actor, params.org, params.user_id)),
      { params: memberParams, response: { 201: toggleAdminResponse } },
    )
    .delete("/:org/members/:user_id", ({ actor, params }) => svc.removeMember(deps, actor, params.org, params.user_id), {
      params: memberParams,
      response: { 200: okResponse },
    });

export const orgRoutes = (deps: Deps) =>
  new Elysia().use(orgRoutesAt(deps, "/api/v1/organizations")).use(orgRoutesAt(deps, "/api/v1/orgs"));
