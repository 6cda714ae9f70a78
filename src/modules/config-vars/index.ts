// Routes: config variables at five scopes (hierarchical family under /api/v1/orgs) and the
// reference family /api/v1/configurations/{application_id} (a service id or org/project/app).
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { withActor } from "../auth/context";
import { okResponse } from "../auth/model";
import * as m from "./model";
import * as svc from "./service";

const list = { response: { 200: z.array(m.configurationSummary) } };
const one = { response: { 200: m.configurationSummary } };
const created = { body: m.createConfigurationRequest, response: { 201: m.configurationSummary } };
const patched = { body: m.updateConfigurationRequest, response: { 200: m.configurationSummary } };
const bulk = { body: m.bulkBody, response: { 201: m.bulkConfigurationResponse } };
const deleted = { response: { 200: okResponse } };

/** list / set / bulk / get / patch / delete (by id or name) for one scope's config path. */
function scopeRoutes<P extends z.ZodObject>(deps: Deps, path: string, params: P, toRef: (p: z.infer<P>) => svc.TargetRef, varKey = "config_id", hide = false) {
  const withVar = params.extend({ [varKey]: m.varParam.shape.config_id });
  const ref = (p: unknown) => toRef(p as z.infer<P>);
  const id = (p: unknown) => (p as Record<string, string>)[varKey]!;
  return new Elysia({ detail: { tags: ["config"], hide } })
    .use(withActor(deps))
    .get(path, ({ actor, params: p }) => svc.listVars(deps, actor, ref(p)), { params, ...list })
    .post(path, ({ actor, params: p, body, set }) => ((set.status = 201), svc.setVar(deps, actor, ref(p), body)), { params, ...created })
    .post(`${path}/bulk`, ({ actor, params: p, body, set }) => ((set.status = 201), svc.bulkSet(deps, actor, ref(p), body)), { params, ...bulk })
    .get(`${path}/:${varKey}`, ({ actor, params: p }) => svc.getVar(deps, actor, ref(p), id(p)), { params: withVar, ...one })
    .patch(`${path}/:${varKey}`, ({ actor, params: p, body }) => svc.patchVar(deps, actor, ref(p), id(p), body), { params: withVar, ...patched })
    .delete(`${path}/:${varKey}`, ({ actor, params: p }) => svc.deleteVar(deps, actor, ref(p), id(p)), { params: withVar, ...deleted });
}

const O = "/api/v1/orgs/:org";
const P = `${O}/projects/:project`;
const E = `${P}/envs/:env`;
const S = `${E}/services/:svc`;
const C = "/api/v1/configurations";

const seg = z.string().min(1).max(255);
const appParams = z.object({ application_id: seg });
const pathAppParams = z.object({ application_id: seg, config_id: seg, app: seg });

export const configRoutes = (deps: Deps) =>
  new Elysia()
    .use(scopeRoutes(deps, `${O}/config`, m.orgParams, (p) => ({ scope: "organization", org: p.org })))
    .use(scopeRoutes(deps, `${O}/teams/:team/config`, m.teamParams, (p) => ({ scope: "team", org: p.org, team: p.team })))
    .use(scopeRoutes(deps, `${P}/config`, m.projectParams, (p) => ({ scope: "project", org: p.org, project: p.project })))
    .use(scopeRoutes(deps, `${E}/config`, m.envParams, (p) => ({ scope: "environment", org: p.org, project: p.project, env: p.env })))
    .use(scopeRoutes(deps, `${S}/config`, m.serviceParams, (p) => ({ scope: "service", org: p.org, project: p.project, env: p.env, svc: p.svc })))
    .use(
      new Elysia({ detail: { tags: ["config"] } })
        .use(withActor(deps))
        .get(`${S}/config/resolved`, ({ actor, params: p }) => svc.resolvedVars(deps, actor, { scope: "service", ...p }), {
          params: m.serviceParams,
          response: { 200: z.array(m.resolvedVar) },
          detail: { summary: "Every variable the service receives, the scope it comes from, secrets masked" },
        }),
    )
    // {application_id} as a service id: /configurations/{id}[/{config_id}|/bulk]
    .use(scopeRoutes(deps, `${C}/:application_id`, appParams, (p) => ({ scope: "application", ref: p.application_id })))
    // {application_id} as org/project/app: the three segments take the next three path positions
    // (hidden from the OpenAPI document, which describes the {application_id} form once)
    .use(
      scopeRoutes(deps, `${C}/:application_id/:config_id/:app`, pathAppParams, (p) => ({
        scope: "application",
        ref: `${p.application_id}/${p.config_id}/${p.app}`,
      }), "var", true),
    );
