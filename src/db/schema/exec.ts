// Exec sessions (tokens and their audit), one-off runs and persistent volumes of services (issue 14).
import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";
import { organizations } from "./orgs";
import { services } from "./projects";

/** A volume the service's processes mount; the runtime keeps its data across deploys. */
export const serviceVolumes = sqliteTable(
  "service_volumes",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id").notNull().references(() => services.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    mountPath: text("mount_path").notNull(),
    sizeHint: text("size_hint"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("service_volumes_name_idx").on(t.serviceId, t.name), uniqueIndex("service_volumes_path_idx").on(t.serviceId, t.mountPath)],
);

export const runStatuses = ["running", "succeeded", "failed", "error"] as const;
export type RunStatus = (typeof runStatuses)[number];

/** A one-off container from a release (`ancla run --remote`): output, exit code and duration are kept. */
export const runs = sqliteTable(
  "runs",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id").notNull().references(() => services.id, { onDelete: "cascade" }),
    releaseId: text("release_id").notNull(),
    releaseVersion: integer("release_version").notNull(),
    processType: text("process_type").notNull(),
    command: text("command").notNull(),
    status: text("status", { enum: runStatuses }).notNull().default("running"),
    exitCode: integer("exit_code"),
    // redacted, capped (see modules/exec/runs.ts)
    output: text("output").notNull().default(""),
    errorDetail: text("error_detail"),
    durationMs: integer("duration_ms"),
    createdById: text("created_by_id"),
    createdAt: text("created_at").notNull(),
    finishedAt: text("finished_at"),
  },
  (t) => [index("runs_service_idx").on(t.serviceId, t.createdAt)],
);

/**
 * One exec into a replica: the single-use token (only its SHA-256 is stored), what it is bound
 * to, and the audit of its use. Kept when the service is deleted (the audit outlives it); the
 * organization's deletion removes it.
 */
export const execSessions = sqliteTable(
  "exec_sessions",
  {
    id: text("id").primaryKey(),
    tokenHash: text("token_hash").notNull(),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    serviceId: text("service_id").notNull(),
    // org/project/env/service at creation, for the audit after a rename or deletion
    servicePath: text("service_path").notNull(),
    userId: text("user_id").notNull(),
    username: text("username").notNull(),
    process: text("process").notNull(),
    command: text("command").notNull(),
    expiresAt: text("expires_at").notNull(),
    usedAt: text("used_at"),
    // ssh | websocket, once used
    transport: text("transport"),
    replicaId: text("replica_id"),
    remoteAddress: text("remote_address"),
    finishedAt: text("finished_at"),
    exitCode: integer("exit_code"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [uniqueIndex("exec_sessions_token_idx").on(t.tokenHash), index("exec_sessions_org_idx").on(t.orgId, t.createdAt)],
);
