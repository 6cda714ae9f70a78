// Shapes of exec, runs and volumes.
import { z } from "zod";
import { paginated } from "../../lib/pagination";

const seg = z.string().max(255);
export const serviceParams = z.object({ org: seg, project: seg, env: seg, svc: seg });
export const runParams = serviceParams.extend({ id: seg });
export const volumeParams = serviceParams.extend({ name: seg });
export const idParams = z.object({ org: seg });
export const appParams = z.object({ org: seg, project: seg, app: seg });
export const orgParams = z.object({ org: seg });

const PROCESS = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?$/, "must be a process type (lowercase letters, digits and dashes)");

export const runInput = z
  .object({
    command: z.string().min(1).max(4096).refine((c) => !c.includes("\0"), "may not contain NUL"),
    process_type: PROCESS.default("run"),
    timeout_seconds: z.number().int().min(1).max(86_400).default(3600),
  })
  .strict();
export type RunInput = z.infer<typeof runInput>;

export const runView = z.object({
  id: z.string(),
  application_id: z.string(),
  release_id: z.string(),
  release_version: z.number().int(),
  process_type: z.string(),
  command: z.string(),
  status: z.enum(["running", "succeeded", "failed", "error"]),
  exit_code: z.number().int().nullable(),
  error_detail: z.string().nullable(),
  duration_ms: z.number().int().nullable(),
  created_by: z.string().nullable(),
  created: z.string(),
  finished: z.string().nullable(),
  output: z.string().nullable(),
});
export const runList = paginated(runView);

/** The published CLI sends {"process", "command"}; `ancla ssh` leaves the command out (a shell). */
export const execInput = z
  .object({
    process: PROCESS.default("web"),
    command: z.string().min(1).max(4096).refine((c) => !c.includes("\0"), "may not contain NUL").optional(),
  })
  .strict();
export type ExecInput = z.infer<typeof execInput>;

export const execResponse = z.object({
  host: z.string(),
  port: z.number().int(),
  token: z.string(),
  websocket_url: z.string(),
  expires_at: z.string(),
  session_id: z.string(),
});

export const execSessionView = z.object({
  id: z.string(),
  service: z.string(),
  service_id: z.string(),
  user_id: z.string(),
  username: z.string(),
  process: z.string(),
  command: z.string(),
  created: z.string(),
  expires_at: z.string(),
  used_at: z.string().nullable(),
  transport: z.string().nullable(),
  remote_address: z.string().nullable(),
  replica_id: z.string().nullable(),
  finished: z.string().nullable(),
  exit_code: z.number().int().nullable(),
});
export const execSessionList = paginated(execSessionView);

export const deleteVolumesQuery = z.object({ delete_volumes: z.enum(["true", "false"]).optional() });
export const backupQuery = z.object({ pause: z.enum(["true", "false"]).optional() });
