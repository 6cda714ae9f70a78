// `ancla services …`: list, get, create and update the services of an environment.
import { intFlag, noExtraArgs, requireArg, usage, YES, type OptionTable } from "../args";
import { clientFor, seg } from "../client";
import { command, type CommandContext, type CommandTable } from "../context";
import type { Column, Output } from "../render";
import { resolveSettings, resolveTarget } from "../settings";
import { envsPath } from "./envs";
import { confirm } from "./pipeline";
import type { z } from "zod";
import type { ApplicationSummary, patchServiceRequest, ServiceDetail } from "../../modules/services/model";

/** The PATCH body as the CLI sends it (the server's schema before its transforms). */
type PatchServiceRequest = z.input<typeof patchServiceRequest>;

const deployed = (s: ApplicationSummary) => (s.latest_deployment_complete == null ? null : s.latest_deployment_complete ? "yes" : "no");

export const serviceColumns: Column<ApplicationSummary>[] = [
  { header: "SLUG", get: (s) => s.slug },
  { header: "NAME", get: (s) => s.name },
  { header: "PLATFORM", get: (s) => s.platform },
  { header: "IMAGE", get: (s) => (s.latest_image_version == null ? null : `v${s.latest_image_version}`) },
  { header: "RELEASE", get: (s) => (s.latest_release_version == null ? null : `v${s.latest_release_version}`) },
  { header: "DEPLOYED", get: deployed },
];

const processes = (s: ServiceDetail) =>
  Object.entries(s.process_counts ?? {})
    .map(([type, n]) => `${type}=${n}${s.process_pod_classes?.[type] ? ` (${s.process_pod_classes[type]})` : ""}`)
    .join(", ");

export const serviceOutput = (s: ServiceDetail): Output => ({
  kind: "object",
  value: {
    id: s.id,
    slug: s.slug,
    name: s.name,
    target: [s.organization_slug, s.project_slug, s.environment_slug, s.slug].filter(Boolean).join("/"),
    platform: s.platform,
    source: s.image ?? s.git_url ?? s.github_repository ?? null,
    port: s.port,
    processes: processes(s) || null,
    domains: s.domains?.length ? s.domains.join(", ") : null,
    health_check_path: s.health_check_path,
    created: s.created,
  },
  data: s,
});

const link = (ctx: CommandContext) => resolveSettings(ctx).link;
const LEVELS = ["org", "project", "env", "service"] as const;
const servicePathOf = (t: Record<(typeof LEVELS)[number], string>) => `${envsPath(t.org, t.project)}/${seg(t.env)}/services/${seg(t.service)}`;

type Field = keyof PatchServiceRequest;
/** `services update` flags: which service field each sets and how its text becomes a value. */
const UPDATES = {
  name: { field: "name", kind: "text", value: "NAME", description: "display name" },
  platform: { field: "platform", kind: "text", value: "P", description: "wind, steam, diesel, stirling, nuclear or electric" },
  image: { field: "image", kind: "text", value: "REF", description: "deploy this pre-built image instead of building" },
  "git-url": { field: "git_url", kind: "text", value: "URL", description: "git repository to build from" },
  "github-repository": { field: "github_repository", kind: "text", value: "OWNER/REPO", description: "GitHub repository to build from" },
  "build-ref": { field: "build_ref", kind: "text", value: "REF", description: "branch, tag or commit to build" },
  "auto-deploy-branch": { field: "auto_deploy_branch", kind: "text", value: "BRANCH", description: "deploy on pushes to this branch" },
  subdirectory: { field: "subdirectory", kind: "text", value: "PATH", description: "build context inside the repository" },
  dockerfile: { field: "dockerfile_path", kind: "text", value: "PATH", description: "Dockerfile path in the context" },
  port: { field: "port", kind: "int", min: 1, max: 65535, value: "N", description: "container port (passed as PORT)" },
  "health-check-path": { field: "health_check_path", kind: "text", value: "PATH", description: "path web replicas must answer 2xx/3xx on (default /_health/)" },
  "health-check-host": { field: "health_check_host", kind: "text", value: "HOST", description: "Host header of the health check" },
  "deployment-timeout": { field: "deployment_timeout", kind: "int", min: 10, max: 3600, value: "SECONDS", description: "how long a deploy may take to become healthy (default 180)" },
  "upstream-timeout": { field: "upstream_timeout", kind: "int", min: 1, max: 3600, value: "SECONDS", description: "how long the router waits for a replica's answer" },
  "keep-images": { field: "keep_images", kind: "int", min: 1, max: 50, value: "N", description: "how many images to keep" },
  domains: { field: "domains", kind: "list", value: "A,B", description: "custom hostnames, comma separated (replaces the list)" },
  "https-redirect": { field: "https_redirect", kind: "bool", value: "true|false", description: "with --https on the server: redirect plain HTTP to HTTPS (default true)" },
  hsts: { field: "hsts", kind: "bool", value: "true|false", description: "with --https on the server: send Strict-Transport-Security (default false)" },
} as const satisfies Record<string, { field: Field; kind: "text" | "int" | "list" | "bool"; min?: number; max?: number; value: string; description: string }>;
type UpdateFlag = keyof typeof UPDATES;

const UPDATE_OPTIONS = {
  ...(Object.fromEntries(Object.entries(UPDATES).map(([flag, u]) => [flag, { type: "string", value: u.value, description: u.description }])) as Record<UpdateFlag, { type: "string"; value: string; description: string }>),
  unset: { type: "string", multiple: true, value: "FLAG", description: "reset a setting to its default, e.g. --unset image (domains: none)" },
} as const satisfies OptionTable;

/** The PATCH body of `services update`: only the fields whose flags were given. */
export function updateBody(flags: Partial<Record<UpdateFlag, string>> & { unset?: string[] }): PatchServiceRequest {
  const body: Record<string, unknown> = {};
  for (const [flag, u] of Object.entries(UPDATES) as [UpdateFlag, (typeof UPDATES)[UpdateFlag]][]) {
    const raw = flags[flag];
    if (raw === undefined) continue;
    if (u.kind === "int") body[u.field] = intFlag(raw, flag, u.min, u.max);
    else if (u.kind === "list") body[u.field] = raw.split(",").map((d) => d.trim()).filter(Boolean);
    else if (u.kind === "bool") {
      if (raw !== "true" && raw !== "false") throw usage(`--${flag} must be true or false`);
      body[u.field] = raw === "true";
    }
    else body[u.field] = raw;
  }
  for (const name of (flags.unset ?? []).flatMap((n) => n.split(","))) {
    const flag = name.trim().replace(/^--/, "") as UpdateFlag;
    const u = UPDATES[flag];
    if (!u) throw usage(`--unset ${name}: not a setting of services update (one of ${Object.keys(UPDATES).join(", ")})`);
    if (body[u.field] !== undefined) throw usage(`--${flag} and --unset ${flag} contradict each other`);
    if (u.field === "name" || u.field === "platform" || u.field === "port" || u.field === "keep_images") throw usage(`--unset ${flag}: ${flag} has no default to return to; set a value`);
    body[u.field] = u.kind === "list" ? [] : null;
  }
  if (Object.keys(body).length === 0) throw usage(`nothing to update: pass at least one of --${Object.keys(UPDATES).join(", --")} or --unset`);
  return body as PatchServiceRequest;
}

export const serviceCommands: CommandTable = {
  "services list": command({
    summary: "List the services of an environment",
    usage: "services list [org/project/env]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(ctx.args[0], ["org", "project", "env"] as const, link(ctx));
      const rows = await clientFor(ctx).get<ApplicationSummary[]>(`${envsPath(t.org, t.project)}/${seg(t.env)}/services`);
      return { kind: "table", rows, columns: serviceColumns };
    },
  }),
  "services get": command({
    summary: "Show a service",
    usage: "services get [org/project/env/]<service>",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(ctx.args[0], LEVELS, link(ctx));
      return serviceOutput(await clientFor(ctx).get<ServiceDetail>(servicePathOf(t)));
    },
  }),
  "services create": command({
    summary: "Create a service in an environment",
    usage: "services create [org/project/env/]<name>",
    options: {
      slug: { type: "string", value: "SLUG", description: "URL name (derived from the name when omitted)" },
      platform: UPDATE_OPTIONS.platform,
      image: UPDATE_OPTIONS.image,
      "git-url": UPDATE_OPTIONS["git-url"],
      "build-ref": UPDATE_OPTIONS["build-ref"],
      dockerfile: UPDATE_OPTIONS.dockerfile,
      port: UPDATE_OPTIONS.port,
    },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(requireArg(ctx.args, 0, "<name>"), LEVELS, link(ctx));
      const f = ctx.flags;
      const body = { name: t.service, slug: f.slug, platform: f.platform, image: f.image, git_url: f["git-url"], build_ref: f["build-ref"], dockerfile_path: f.dockerfile, port: intFlag(f.port, "port", 1, 65535) };
      return serviceOutput(await clientFor(ctx).post<ServiceDetail>(`${envsPath(t.org, t.project)}/${seg(t.env)}/services`, body));
    },
  }),
  "services update": command({
    summary: "Change a service's settings (only the flags given; --unset FLAG resets one)",
    usage: "services update [org/project/env/]<service>",
    options: UPDATE_OPTIONS,
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(ctx.args[0], LEVELS, link(ctx));
      const body = updateBody(ctx.flags);
      return serviceOutput(await clientFor(ctx).patch<ServiceDetail>(servicePathOf(t), body));
    },
  }),
  "services delete": command({
    summary: "Delete a service: its replicas stop and its routes, releases and history go; its volumes' data stays unless --delete-volumes (asks first; --yes to skip)",
    // the service is always named: a linked directory never picks what is deleted
    usage: "services delete [org/project/env/]<service>",
    options: { ...YES, "delete-volumes": { type: "boolean", description: "also delete the data in the service's volumes (it cannot be brought back)" } },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(requireArg(ctx.args, 0, "<service>"), LEVELS, link(ctx));
      const name = `${t.org}/${t.project}/${t.env}/${t.service}`;
      const volumes = ctx.flags["delete-volumes"] === true;
      confirm(ctx, `Delete service ${name}${volumes ? " and the data in its volumes" : ""}?`);
      await clientFor(ctx).delete(`${servicePathOf(t)}${volumes ? "?delete_volumes=true" : ""}`);
      return { kind: "text", text: `Deleted service ${name}${volumes ? " and its volumes' data" : " (its volumes' data is kept)"}`, data: { ok: true, deleted: name, volumes_deleted: volumes } };
    },
  }),
};
