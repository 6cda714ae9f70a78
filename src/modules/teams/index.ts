// Routes: /api/v1/orgs/{org}/teams (hierarchical family).
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { createTeamRequest, orgParams, teamResponse } from "./model";
import { withActor } from "../auth/context";
import * as svc from "./service";

export const teamRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/orgs/:org/teams", detail: { tags: ["teams"] } })
    .use(withActor(deps))
    .get("/", ({ actor, params }) => svc.listTeams(deps, actor, params.org), { params: orgParams, response: { 200: z.array(teamResponse) } })
    .post("/", ({ actor, params, body, set }) => ((set.status = 201), svc.createTeam(deps, actor, params.org, body)), {
      params: orgParams,
      body: createTeamRequest,
      response: { 201: teamResponse },
    });
