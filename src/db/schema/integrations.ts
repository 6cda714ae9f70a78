// Integrations (issue 13): GitHub webhook deliveries and per-project settings, preview
// environments, per-service git credentials and the registry token server's signing key. Every
// secret here (webhook secret, deploy private key, HTTPS token, signing key) is sealed under the
// master key (`enc:v1:` tokens, found and re-sealed by rotate-master-key by themselves).
import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";
import { environments, projects, services } from "./projects";

export const deliveryStatuses = ["accepted", "ignored", "refused", "error"] as const;
export type DeliveryStatus = (typeof deliveryStatuses)[number];

/** One row per (GitHub delivery, project it concerns); deliveries that match no project have project_id null. */
export const webhookDeliveries = sqliteTable(
  "webhook_deliveries",
  {
    id: text("id").primaryKey(),
    deliveryId: text("delivery_id").notNull(),
    projectId: text("project_id").references(() => projects.id, { onDelete: "cascade" }),
    event: text("event").notNull(),
    action: text("action"),
    repository: text("repository"),
    ref: text("ref"),
    commitSha: text("commit_sha"),
    status: text("status", { enum: deliveryStatuses }).notNull(),
    message: text("message").notNull(),
    pipelineIds: text("pipeline_ids", { mode: "json" }).$type<string[]>().notNull(),
    /** what a redelivery needs (event fields, never the raw body) */
    payload: text("payload", { mode: "json" }).$type<Record<string, unknown>>(),
    redeliveryOf: text("redelivery_of"),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("webhook_deliveries_project_idx").on(t.projectId, t.createdAt), index("webhook_deliveries_delivery_idx").on(t.deliveryId)],
);

/** Per-project integration settings: the project's own webhook secret and its preview settings. */
export const projectIntegrations = sqliteTable("project_integrations", {
  projectId: text("project_id").primaryKey().references(() => projects.id, { onDelete: "cascade" }),
  webhookSecret: text("webhook_secret"),
  previewSourceEnv: text("preview_source_env"),
  previewTtlHours: integer("preview_ttl_hours").notNull().default(72),
  updatedAt: text("updated_at").notNull(),
});

/** An environment `pr-<n>` created for a pull request. */
export const previewEnvironments = sqliteTable(
  "preview_environments",
  {
    envId: text("env_id").primaryKey().references(() => environments.id, { onDelete: "cascade" }),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    number: integer("number").notNull(),
    repository: text("repository"),
    headSha: text("head_sha"),
    status: text("status").notNull().default("deploying"),
    error: text("error"),
    createdAt: text("created_at").notNull(),
    lastActivityAt: text("last_activity_at").notNull(),
  },
  (t) => [uniqueIndex("preview_environments_project_number_idx").on(t.projectId, t.number)],
);

/** A service's credentials for private repositories: an SSH deploy key (+ pinned host keys) or an HTTPS token. */
export const serviceGitCredentials = sqliteTable("service_git_credentials", {
  serviceId: text("service_id").primaryKey().references(() => services.id, { onDelete: "cascade" }),
  deployKeyPublic: text("deploy_key_public"),
  deployKeyPrivate: text("deploy_key_private"),
  deployKeyFingerprint: text("deploy_key_fingerprint"),
  /** known_hosts lines pinned at the first SSH clone; a different host key is refused until reset */
  knownHosts: text("known_hosts"),
  knownHostsPinnedAt: text("known_hosts_pinned_at"),
  httpsToken: text("https_token"),
  createdAt: text("created_at").notNull(),
  updatedAt: text("updated_at").notNull(),
});

/** The registry token server's signing key (sealed) and its self-signed certificate. */
export const registrySigningKeys = sqliteTable("registry_signing_keys", {
  id: text("id").primaryKey(),
  privateKey: text("private_key").notNull(),
  certificate: text("certificate").notNull(),
  createdAt: text("created_at").notNull(),
});
