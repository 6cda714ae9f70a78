// The durable job queue: pipeline work (builds, deploys …) run by workers inside `ancla serve`.
import { sqliteTable, text, index } from "drizzle-orm/sqlite-core";
import { services } from "./projects";

export const jobStatuses = ["queued", "running", "complete", "error"] as const;
export type JobStatus = (typeof jobStatuses)[number];

export const jobs = sqliteTable(
  "jobs",
  {
    id: text("id").primaryKey(), // UUID v7: sorts by creation time
    serviceId: text("service_id").notNull().references(() => services.id, { onDelete: "cascade" }),
    kind: text("kind").notNull(),
    status: text("status", { enum: jobStatuses }).notNull().default("queued"),
    payload: text("payload", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    result: text("result", { mode: "json" }).$type<Record<string, unknown>>(),
    error: text("error"),
    createdAt: text("created_at").notNull(),
    startedAt: text("started_at"),
    finishedAt: text("finished_at"),
  },
  (t) => [index("jobs_status_created_idx").on(t.status, t.createdAt), index("jobs_service_status_idx").on(t.serviceId, t.status)],
);
