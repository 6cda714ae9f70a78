// Projects, their environments and the services deployed in them.
import { sqliteTable, text, integer, index, uniqueIndex } from "drizzle-orm/sqlite-core";
import { organizations, teams } from "./orgs";

export const projects = sqliteTable(
  "projects",
  {
    id: text("id").primaryKey(),
    orgId: text("org_id").notNull().references(() => organizations.id, { onDelete: "cascade" }),
    teamId: text("team_id").references(() => teams.id, { onDelete: "set null" }),
    name: text("name").notNull(),
    slug: text("slug").notNull(),
    description: text("description").notNull().default(""),
    previewsEnabled: integer("previews_enabled", { mode: "boolean" }).notNull().default(false),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("projects_org_slug_idx").on(t.orgId, t.slug), index("projects_team_idx").on(t.teamId)],
);

export const environments = sqliteTable(
  "environments",
  {
    id: text("id").primaryKey(),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    slug: text("slug").notNull(),
    envType: text("env_type", { enum: ["production", "staging", "development", "preview"] }).notNull(),
    isDefault: integer("is_default", { mode: "boolean" }).notNull().default(false),
    protected: integer("protected", { mode: "boolean" }).notNull().default(false),
    autoDeployBranch: text("auto_deploy_branch"),
    ephemeral: integer("ephemeral", { mode: "boolean" }).notNull().default(false),
    target: text("target", { enum: ["docker", "kubernetes"] }).notNull().default("docker"),
    /** Sealed (enc:v1:…) kubeconfig text; never returned. Server and fingerprint are kept beside it to show. */
    kubeconfig: text("kubeconfig"),
    kubeconfigServer: text("kubeconfig_server"),
    kubeconfigFingerprint: text("kubeconfig_fingerprint"),
    /** kubeconfig context to use; null: its current-context */
    kubeContext: text("kube_context"),
    namespace: text("namespace"),
    ingressClass: text("ingress_class"),
    /** TLS secret (in the namespace) the Ingress names; null: no TLS section */
    ingressTlsSecret: text("ingress_tls_secret"),
    /** registry the cluster pulls from (host[:port][/path]); credentials optional, password sealed */
    registryUrl: text("registry_url"),
    registryUsername: text("registry_username"),
    registryPassword: text("registry_password"),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [uniqueIndex("environments_project_slug_idx").on(t.projectId, t.slug)],
);

export const services = sqliteTable(
  "services",
  {
    id: text("id").primaryKey(),
    envId: text("env_id").notNull().references(() => environments.id, { onDelete: "cascade" }),
    projectId: text("project_id").notNull().references(() => projects.id, { onDelete: "cascade" }),
    name: text("name").notNull(),
    slug: text("slug").notNull(),
    platform: text("platform").notNull().default("wind"),
    processCounts: text("process_counts", { mode: "json" }).$type<Record<string, number>>().notNull(),
    processPodClasses: text("process_pod_classes", { mode: "json" }).$type<Record<string, string>>().notNull(),
    githubRepository: text("github_repository"),
    githubRepositoryIsPrivate: integer("github_repository_is_private", { mode: "boolean" }).notNull().default(false),
    autoDeployBranch: text("auto_deploy_branch"),
    subdirectory: text("subdirectory"),
    githubAppInstallationId: integer("github_app_installation_id"),
    githubEnvironmentName: text("github_environment_name"),
    deploymentTimeout: integer("deployment_timeout").notNull().default(180),
    healthCheckPath: text("health_check_path").notNull().default("/_health/"),
    healthCheckHost: text("health_check_host"),
    privileged: integer("privileged", { mode: "boolean" }).notNull().default(false),
    image: text("image"),
    gitUrl: text("git_url"),
    buildRef: text("build_ref"),
    dockerfilePath: text("dockerfile_path").notNull().default("Dockerfile"),
    domains: text("domains", { mode: "json" }).$type<string[]>().notNull(),
    port: integer("port").notNull().default(8000),
    keepImages: integer("keep_images").notNull().default(5),
    /** Seconds the router waits for a replica's answer (headers, then each body read) before a 504. */
    upstreamTimeout: integer("upstream_timeout").notNull().default(60),
    /** With --https: plain HTTP requests for a host that has a certificate get a 308 to https:// */
    httpsRedirect: integer("https_redirect", { mode: "boolean" }).notNull().default(true),
    /** With --https: HTTPS answers carry Strict-Transport-Security (one year) */
    hsts: integer("hsts", { mode: "boolean" }).notNull().default(false),
    createdAt: text("created_at").notNull(),
    updatedAt: text("updated_at").notNull(),
  },
  (t) => [
    uniqueIndex("services_env_slug_idx").on(t.envId, t.slug),
    index("services_project_idx").on(t.projectId),
  ],
);

/**
 * One row per custom domain: the primary key is what decides who owns a hostname (never query
 * order). Kept in step with `services.domains` in the same transaction.
 */
export const serviceDomains = sqliteTable(
  "service_domains",
  {
    hostname: text("hostname").primaryKey(),
    serviceId: text("service_id").notNull().references(() => services.id, { onDelete: "cascade" }),
    createdAt: text("created_at").notNull(),
  },
  (t) => [index("service_domains_service_idx").on(t.serviceId)],
);
