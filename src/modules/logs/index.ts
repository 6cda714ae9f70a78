// Route: GET .../envs/{env}/services/{svc}/logs?tail=&follow= (container output as text/plain;
// with Accept: text/event-stream a live Server-Sent Events stream, one `data:` per line).
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { withActor } from "../auth/context";
import { serviceAccess } from "../services/access";
import { followLogs, recentLogs } from "./service";
import { SSE_HEADERS, wantsEventStream } from "../../lib/live-stream";

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
        // an EventSource (Accept: text/event-stream) always follows
        const sse = wantsEventStream(request);
        const follow = sse || query.follow === "true" || query.follow === "1";
        const timestamps = query.timestamps === "true" || query.timestamps === "1";
        if (!follow) return new Response(await recentLogs(deps, access, query.tail, timestamps), { headers: TEXT });
        // ends when the client goes away or the server stops (a follow never holds up a shutdown)
        const stream = await followLogs(deps, access, query.tail, { signal: deps.shutdown.signal, gone: request.signal }, timestamps, sse ? "sse" : "text");
        return new Response(stream, { headers: sse ? SSE_HEADERS : TEXT });
      },
      { params: serviceParams, query: logsQuery, detail: { summary: "Container output, each line prefixed with process.replica (follow=true streams it; Accept: text/event-stream as Server-Sent Events)" } },
    );
