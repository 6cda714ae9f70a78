// Routes: /api/v1/admin/* — server administrators only.
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { pageQuery } from "../../lib/pagination";
import { withActor } from "../auth/context";
import { userResponse } from "../auth/model";
import { createUser, requireServerAdmin, toUserResponse } from "../auth/service";
import { createUserRequest, patchUserRequest, userList } from "./model";
import * as svc from "./service";

export const adminRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/admin", detail: { tags: ["admin"] } })
    .use(withActor(deps))
    .get("/users", ({ actor, query }) => (requireServerAdmin(actor), svc.listUsers(deps, query)), {
      query: pageQuery,
      response: { 200: userList },
    })
    .post(
      "/users",
      async ({ actor, body, set }) => {
        requireServerAdmin(actor);
        const user = await createUser(deps, body);
        set.status = 201;
        return toUserResponse(user);
      },
      { body: createUserRequest, response: { 201: userResponse } },
    )
    .patch("/users/:user_id", ({ actor, params, body }) => svc.patchUser(deps, requireServerAdmin(actor).user.id, params.user_id, body), {
      params: z.object({ user_id: z.string().max(64) }),
      body: patchUserRequest,
      response: { 200: userResponse },
    });
