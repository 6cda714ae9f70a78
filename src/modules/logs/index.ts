// Route: GET .../envs/{env}/services/{svc}/logs?tail=&follow= (container output as text/plain).
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { withActor } from "../auth/context";
import { serviceAccess } from "../services/access";
import { followLogs, recentLogs } from "./service";

const seg = z.string().min(1).max(255);
const serviceParams = z.object({ org: seg, project: seg, env: seg, svc: seg });
const logsQuery = z.object({
  tail: z.coerce.number().int().min(0).max(10_000).default(100),
  follow: z.enum(["true", "false", "1", "0"]).optional(),
  /** prefix each line with Docker's RFC 3339 time: `<time> web.1 | …` */
  timestamps: z.enum(["true", "false", "1", "0"]).optional(),
});

const TEXT = { "content-type": "text/plain; charset=utf-8", "cache-control": "no-store", "x-content-type-options": "nosniff" };

export const logRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/orgs/:org/projects/:project/envs/:env/services/:svc", detail: { tags: ["logs"] } })
    .use(withActor(deps))
    .get(
      "/logs",
      async ({ actor, params: p, query, request }) => {
        const access = serviceAccess(deps, actor, p.org, p.project, p.env, p.svc);
        const follow = query.follow === "true" || query.follow === "1";
        const timestamps = query.timestamps === "true" || query.timestamps === "1";
        if (!follow) return new Response(await recentLogs(deps, access, query.tail, timestamps), { headers: TEXT });
        // ends when the client goes away or the server stops (a follow never holds up a shutdown)
        const until = AbortSignal.any([request.signal, deps.shutdown.signal]);
        return new Response(await followLogs(deps, access, query.tail, until, timestamps), { headers: TEXT });
      },
      { params: serviceParams, query: logsQuery, detail: { summary: "Container output, each line prefixed with process.replica" } },
    );
