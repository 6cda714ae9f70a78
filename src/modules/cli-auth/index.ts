// Route: POST /api/v1/auth/cli-authorize — the dashboard's Authorize button on /cli-auth.
import { Elysia } from "elysia";
import type { Deps } from "../../deps";
import { withActor } from "../auth/context";
import { requireUser } from "../auth/service";
import { cliAuthorizeRequest, cliAuthorizeResponse } from "./model";
import { authorizeCli } from "./service";

export const cliAuthRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/auth", detail: { tags: ["auth"] } })
    .use(withActor(deps))
    .post(
      "/cli-authorize",
      ({ actor, body, set }) => {
        const user = requireUser(actor).user;
        set.status = 201;
        return authorizeCli(deps, user, body);
      },
      {
        body: cliAuthorizeRequest,
        response: { 201: cliAuthorizeResponse },
        detail: { summary: "Authorize a CLI login: creates an API key and returns the 127.0.0.1 callback URL" },
      },
    );
