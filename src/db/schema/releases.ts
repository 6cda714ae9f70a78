// Releases: immutable snapshots of an image, its processes and the service's resolved config.
import { sqliteTable, text, integer, uniqueIndex } from "drizzle-orm/sqlite-core";
import { services } from "./projects";
import { images } from "./images";

/** One resolved config var as frozen in a release; `value` is sealed (encrypted) when `secret`. */
export type ReleaseConfigVar = { name: string; value: string; secret: boolean; scope: string };

export const releaseStatuses = ["queued", "running", "complete", "error"] as const;
export type ReleaseStatus = (typeof releaseStatuses)[number];

export const releases = sqliteTable(
  "releases",
  {
    id: text("id").primaryKey(),
    serviceId: text("service_id").notNull().references(() => services.id, { onDelete: "cascade" }),
    version: integer("version").notNull(),
    status: text("status", { enum: releaseStatuses }).notNull().default("complete"),
    imageId: text("image_id").references(() => images.id, { onDelete: "set null" }),
    imageVersion: integer("image_version"),
    // what `docker create` runs: the image id (sha256:…) when known, else repository:tag
    imageRef: text("image_ref").notNull(),
    repositoryName: text("repository_name").notNull().default(""),
    tag: text("tag"),
    commitSha: text("commit_sha"),
    dockerfile: text("dockerfile"),
    // process type → command (null: the image's CMD)
    processes: text("processes", { mode: "json" }).$type<Record<string, string | null>>().notNull(),
    config: text("config", { mode: "json" }).$type<ReleaseConfigVar[]>().notNull(),
    port: integer("port").notNull(),
    healthCheckPath: text("health_check_path").notNull(),
    healthCheckHost: text("health_check_host"),
    imageChanges: text("image_changes", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    configurationChanges: text("configuration_changes", { mode: "json" }).$type<Record<string, unknown>>().notNull(),
    releaseMetadata: text("release_metadata", { mode: "json" }).$type<Record<string, unknown>>(),
    errorDetail: text("error_detail"),
    log: text("log").notNull().default(""),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("releases_service_version_idx").on(t.serviceId, t.version)],
);
