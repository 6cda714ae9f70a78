// Routes: /api/v1/integrations/* — health (no auth). Webhooks and registry auth arrive with their issue.
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";

export const integrationRoutes = (_deps: Deps) =>
  new Elysia({ prefix: "/api/v1/integrations", detail: { tags: ["integrations"] } }).get("/health", () => ({ status: "ok" }), {
    response: { 200: z.object({ status: z.string() }) },
    detail: { summary: "Liveness probe", security: [] },
  });
