// Built images per service (versions v1, v2 …) and their build log lines.
import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";
import { services } from "./projects";

export const imageStatuses = ["queued", "running", "complete", "error"] as const;
export type ImageStatus = (typeof imageStatuses)[number];
export const imageSources = ["upload", "git", "image"] as const;
export type ImageSource = (typeof imageSources)[number];

export const images = sqliteTable(
  "images",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id").notNull().references(() => services.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    status: text("status", { enum: imageStatuses }).notNull().default("queued"),
    // {name, index, total} of the step running now (or the last one when finished)
    buildStep: text("build_step", { mode: "json" }).$type<Record<string, unknown>>(),
    errorDetail: text("error_detail"),
    source: text("source", { enum: imageSources }).notNull(),
    buildRef: text("build_ref"),
    commitSha: text("commit_sha"),
    dockerImageId: text("docker_image_id"),
    repositoryName: text("repository_name").notNull(),
    tag: text("tag").notNull(),
    sizeBytes: integer("size_bytes"),
    dockerfile: text("dockerfile"),
    procfile: text("procfile"),
    // process type → command, or null to run the image's CMD
    processes: text("processes", { mode: "json" }).$type<Record<string, string | null>>(),
    imageMetadata: text("image_metadata", { mode: "json" }).$type<Record<string, unknown>>(),
    // true once retention removed the Docker image (the row stays for history)
    pruned: integer("pruned", { mode: "boolean" }).notNull().default(false),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
    startedAt: text("started_at"),
    finishedAt: text("finished_at"),
  },
  (t) => [uniqueIndex("images_service_version_idx").on(t.serviceId, t.version)],
);

/** Build output, one row per line, appended as it arrives (readable while the build runs). */
export const imageLogs = sqliteTable(
  "image_logs",
  {
    id: integer("id").primaryKey({ autoIncrement: true }),
    imageId: text("image_id").notNull().references(() => images.id, { onDelete: "cascade" }),
    line: text("line").notNull(),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("image_logs_image_idx").on(t.imageId, t.id)],
);
