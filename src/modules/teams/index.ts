// Routes: /api/v1/orgs/{org}/teams (hierarchical family): teams and their members.
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { addTeamMemberRequest, createTeamRequest, orgParams, teamDetail, teamMemberParams, teamParams, teamResponse } from "./model";
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
      detail: { summary: "Create a team (org admins)" },
    })
    .get("/:team", ({ actor, params }) => svc.getTeam(deps, actor, params.org, params.team), {
      params: teamParams,
      response: { 200: teamDetail },
      detail: { summary: "A team with its members" },
    })
    .post("/:team/members", ({ actor, params, body, set }) => ((set.status = 201), svc.addTeamMember(deps, actor, params.org, params.team, body)), {
      params: teamParams,
      body: addTeamMemberRequest,
      response: { 201: teamDetail },
      detail: { summary: "Add a member of the organization to the team (org admins)" },
    })
    .delete("/:team/members/:user_id", ({ actor, params }) => svc.removeTeamMember(deps, actor, params.org, params.team, params.user_id), {
      params: teamMemberParams,
      response: { 200: teamDetail },
      detail: { summary: "Remove a member from the team (org admins)" },
    });
