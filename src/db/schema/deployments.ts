// Deployments: one rollout (or in-place scale) of a release to its environment's target.
import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";
import { services } from "./projects";
import { releases } from "./releases";

export const deploymentStatuses = ["queued", "running", "complete", "error"] as const;
export type DeploymentStatus = (typeof deploymentStatuses)[number];
export const deploymentKinds = ["deploy", "scale"] as const;
export type DeploymentKind = (typeof deploymentKinds)[number];

/** A container a deployment started or kept; the serving set is the latest complete deployment's. */
export type ReplicaRecord = {
  id: string;
  process: string;
  replica: number;
  hostPort: number | null;
  deploymentId: string;
  podClass: string;
  releaseId: string;
  /** times Ancla restarted or replaced this replica since the deployment (Docker counts its own) */
  restarts?: number;
};

export type DeploymentMetadata = {
  target?: string;
  process_counts?: Record<string, number>;
  process_pod_classes?: Record<string, string>;
  /** containers serving once this deployment completes (kept + started) */
  replicas?: ReplicaRecord[];
  /** containers this deployment started (removed again when it fails or is interrupted) */
  started?: string[];
  network?: string;
  [key: string]: unknown;
};

export const deployments = sqliteTable(
  "deployments",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id").notNull().references(() => services.id, { onDelete: "cascade" }),
    releaseId: text("release_id").notNull().references(() => releases.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    kind: text("kind", { enum: deploymentKinds }).notNull().default("deploy"),
    status: text("status", { enum: deploymentStatuses }).notNull().default("queued"),
    // {name, index, total} of the step running now (or the last one when finished)
    deployStep: text("deploy_step", { mode: "json" }).$type<Record<string, unknown>>(),
    errorDetail: text("error_detail"),
    metadata: text("metadata", { mode: "json" }).$type<DeploymentMetadata>().notNull(),
    jobId: text("job_id"),
    createdById: text("created_by_id"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    startedAt: text("started_at"),
    finishedAt: text("finished_at"),
  },
  (t) => [
    uniqueIndex("deployments_service_version_idx").on(t.serviceId, t.version),
    index("deployments_service_status_idx").on(t.serviceId, t.status),
  ],
);

/** Deploy output, one row per line (already redacted), readable while the deploy runs. */
export const deploymentLogs = sqliteTable(
  "deployment_logs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    deploymentId: text("deployment_id").notNull().references(() => deployments.id, { onDelete: "cascade" }),
    line: text("line").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("deployment_logs_deployment_idx").on(t.deploymentId, t.id)],
);
