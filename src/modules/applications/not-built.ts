// `{application_id}` routes the published CLI calls for features Ancla does not have: database
// (`dbshell`), cache (exec is the exec module's). Each answers, once the app is found, a 501
// that says so — in both the id form and the path form — instead of the `{org}/{project}` route
// the id form would otherwise fall into (a 422 about a missing `name`). A feature that gets built
// replaces its entry here with real routes.
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { AppError } from "../../errors";
import { isUuid } from "../../lib/ids";
import { withActor } from "../auth/context";
import { requireUser, type Actor } from "../auth/service";
import { applicationSummary, serviceDetail } from "../services/model";
import { applicationAccess, applicationRef } from "./access";
import { appParams, createInProjectRequest, idParams } from "./model";
import * as svc from "./service";

type Feature = { method: "GET" | "POST"; suffix: string; message: string };
const FEATURES: Feature[] = [
  { method: "GET", suffix: "database", message: "Ancla does not manage databases: run one as a service or outside, and give it to the app as config (DATABASE_URL)." },
  { method: "GET", suffix: "cache", message: "Ancla does not manage caches: run one as a service or outside, and give it to the app as config." },
  { method: "POST", suffix: "cache/flush", message: "Ancla does not manage caches, so there is nothing to flush." },
];

/** 404 unless the caller may see the app, then 501 naming what is missing. */
function notBuilt(deps: Deps, actor: Actor | null, ref: string, feature: Feature): never {
  applicationAccess(deps, actor, ref);
  throw new AppError(501, feature.message, "not_implemented", 1);
}

/** Mounted by applicationRoutes (below its /api/v1/applications prefix). */
export function notBuiltRoutes(deps: Deps) {
  const app = new Elysia({ detail: { tags: ["applications"], hide: true } }).use(withActor(deps));
  for (const f of FEATURES) {
    const route = f.method === "GET" ? app.get.bind(app) : app.post.bind(app);
    // the id form `/{id}/<suffix>`; a one-word suffix also shadows `/{org}/{project}` (project = the word)
    route(
      `/:org/${f.suffix}`,
      async ({ actor, params, body, set }: { actor: Actor | null; params: { org: string }; body: unknown; set: { status?: number | string } }) => {
        requireUser(actor);
        if (isUuid(params.org) || f.suffix.includes("/")) return notBuilt(deps, actor, params.org, f);
        if (f.method === "GET") return svc.listApplications(deps, actor, params.org, f.suffix);
        set.status = 201;
        return await svc.createInProject(deps, actor, params.org, f.suffix, svc.parseBody(createInProjectRequest, body));
      },
      { params: idParams, response: { 200: z.array(applicationSummary), 201: serviceDetail } },
    );
    route(`/:org/:project/:app/${f.suffix}`, ({ actor, params }: { actor: Actor | null; params: { org: string; project: string; app: string } }) => notBuilt(deps, actor, applicationRef(params), f), {
      params: appParams,
    });
  }
  return app;
}
