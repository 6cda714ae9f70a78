// Routes: /api/keys — the current user's API keys.
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { withActor } from "../auth/context";
import { requireUser } from "../auth/service";
import { createKeyRequest, createKeyResponse, keyInfo, listKeysQuery, listKeysResponse } from "./model";
import * as svc from "./service";

const keyParams = z.object({ key_id: z.string().max(64) });

export const keyRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/keys", detail: { tags: ["keys"] } })
    .use(withActor(deps))
    .get("/", ({ actor, query }) => svc.listApiKeys(deps, requireUser(actor).user.id, query.limit, query.offset), {
      query: listKeysQuery,
      response: { 200: listKeysResponse },
    })
    .post(
      "/",
      ({ actor, body, set }) => {
        const user = requireUser(actor).user;
        set.status = 201;
        return svc.createApiKey(deps, user.id, body);
      },
      { body: createKeyRequest, response: { 201: createKeyResponse } },
    )
    .get("/:key_id", ({ actor, params }) => svc.toKeyInfo(svc.getUserKey(deps, requireUser(actor).user.id, params.key_id)), {
      params: keyParams,
      response: { 200: keyInfo },
    })
    .delete(
      "/:key_id",
      ({ actor, params, set }) => {
        svc.deleteApiKey(deps, requireUser(actor).user.id, params.key_id);
        set.status = 204;
      },
      { params: keyParams },
    )
    .post(
      "/:key_id/revoke",
      ({ actor, params, set }) => {
        svc.revokeApiKey(deps, requireUser(actor).user.id, params.key_id);
        set.status = 204;
      },
      { params: keyParams },
    );
