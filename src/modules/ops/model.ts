// Shapes of GET /api/v1/status (server admins): what an operator checks first.
import { z } from "zod";

export const backupView = z.object({ file: z.string(), created_at: z.string(), age_seconds: z.number().int(), bytes: z.number().int() });

export const statusResponse = z.object({
  version: z.string(),
  pid: z.number().int(),
  started_at: z.string(),
  uptime_seconds: z.number().int(),
  reloading: z.boolean(),
  database: z.object({ path: z.string(), bytes: z.number().int(), schema: z.string().nullable(), migrations: z.number().int() }),
  backups: z.object({
    last: backupView.nullable(),
    count: z.number().int(),
    every_seconds: z.number().nullable(),
    keep: z.number().int(),
    dir: z.string(),
    include_key: z.boolean(),
    next_due_at: z.string().nullable(),
    last_error: z.string().nullable(),
  }),
  docker: z.object({ reachable: z.boolean(), error: z.string().nullable() }),
  queue: z.object({ queued: z.number().int(), running: z.number().int() }),
  router: z.object({
    listening: z.boolean(),
    url: z.string().nullable(),
    https_port: z.number().int().nullable(),
    hostnames: z.number().int(),
    services: z.number().int(),
    replicas: z.number().int(),
  }),
});
export type StatusResponse = z.infer<typeof statusResponse>;
