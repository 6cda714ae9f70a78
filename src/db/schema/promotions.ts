// Promotions: a release of one environment's service deployed (same image, the target's config)
// to the same service in another environment of the project.
import { sqliteTable, text, integer, index } from "drizzle-orm/sqlite-core";
import { environments, projects, services } from "./projects";
import { releases } from "./releases";
import { deployments } from "./deployments";

export const promotionStatuses = ["pending", "deploying", "complete", "error"] as const;
export type PromotionStatus = (typeof promotionStatuses)[number];

export const promotions = sqliteTable(
  "promotions",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    serviceSlug: text("service_slug").notNull(),
    sourceEnvId: text("source_env_id").notNull().references(() => environments.id, { onDelete: "cascade" }),
    targetEnvId: text("target_env_id").notNull().references(() => environments.id, { onDelete: "cascade" }),
    sourceServiceId: text("source_service_id").references(() => services.id, { onDelete: "set null" }),
    targetServiceId: text("target_service_id").references(() => services.id, { onDelete: "set null" }),
    sourceReleaseId: text("source_release_id").references(() => releases.id, { onDelete: "set null" }),
    targetReleaseId: text("target_release_id").references(() => releases.id, { onDelete: "set null" }),
    deploymentId: text("deployment_id").references(() => deployments.id, { onDelete: "set null" }),
    status: text("status", { enum: promotionStatuses }).notNull().default("pending"),
    // names only: {added, removed, changed} between the source and target resolved config
    configChanges: text("config_changes", { mode: "json" }).$type<{ added: string[]; removed: string[]; changed: string[] }>().notNull(),
    targetCreated: integer("target_created", { mode: "boolean" }).notNull().default(false),
    errorDetail: text("error_detail"),
    createdById: text("created_by_id"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    finishedAt: text("finished_at"),
  },
  (t) => [index("promotions_project_created_idx").on(t.projectId, t.createdAt)],
);
