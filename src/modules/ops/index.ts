// Routes: GET /api/v1/status — the server's own health for its admins (the unauthenticated, cheap
// liveness probe stays GET /api/v1/integrations/health).
import { Elysia } from "elysia";
import type { Deps } from "../../deps";
import { withActor } from "../auth/context";
import { requireServerAdmin } from "../auth/service";
import { statusResponse } from "./model";
import { serverStatus } from "./service";

export const opsRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1", detail: { tags: ["operations"] } })
    .use(withActor(deps))
    .get("/status", ({ actor }) => (requireServerAdmin(actor), serverStatus(deps)), {
      response: { 200: statusResponse },
      detail: { summary: "Server status: version, uptime, database, backups, Docker, job queue, router (server admins)" },
    });
