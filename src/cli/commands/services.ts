// `ancla services …`: list, get and create the services of an environment.
import { AppError } from "../../errors";
import { flagString, noExtraArgs, requireArg, type Flags } from "../args";
import { clientFor, seg } from "../client";
import type { CommandContext, CommandTable } from "../context";
import type { Column, Output } from "../render";
import { resolveSettings, resolveTarget } from "../settings";
import { envsPath } from "./envs";

/** The fields of ApplicationSummary/ApplicationDetail the CLI shows. */
export type ServiceView = {
  id: string;
  name: string;
  slug: string;
  platform?: string;
  project_slug?: string;
  organization_slug?: string;
  environment_slug?: string;
  image?: string | null;
  git_url?: string | null;
  github_repository?: string | null;
  port?: number;
  process_counts?: Record<string, number>;
  process_pod_classes?: Record<string, string>;
  domains?: string[];
  health_check_path?: string;
  latest_image_version?: number | null;
  latest_release_version?: number | null;
  latest_deployment_complete?: boolean | null;
  created?: string | null;
  /** service detail only: the serving deployment's replicas as the server last saw them */
  replicas?: ReplicaView[];
};

/** One replica in the service detail (see the server's deployments/model.ts). */
export type ReplicaView = {
  process: string;
  replica: number;
  container_id: string;
  state: string;
  exit_code: number | null;
  restart_count: number;
  last_exit_at: string | null;
  host_port: number | null;
  last_error: string | null;
  next_attempt_at: string | null;
};

const deployed = (s: ServiceView) => (s.latest_deployment_complete == null ? null : s.latest_deployment_complete ? "yes" : "no");

export const serviceColumns: Column<ServiceView>[] = [
  { header: "SLUG", get: (s) => s.slug },
  { header: "NAME", get: (s) => s.name },
  { header: "PLATFORM", get: (s) => s.platform },
  { header: "IMAGE", get: (s) => (s.latest_image_version == null ? null : `v${s.latest_image_version}`) },
  { header: "RELEASE", get: (s) => (s.latest_release_version == null ? null : `v${s.latest_release_version}`) },
  { header: "DEPLOYED", get: deployed },
];

const processes = (s: ServiceView) =>
  Object.entries(s.process_counts ?? {})
    .map(([type, n]) => `${type}=${n}${s.process_pod_classes?.[type] ? ` (${s.process_pod_classes[type]})` : ""}`)
    .join(", ");

export const serviceOutput = (s: ServiceView): Output => ({
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

function intFlag(flags: Flags, name: string): number | undefined {
  const v = flagString(flags, name);
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v)) throw new AppError(2, `--${name} must be a whole number`, "usage", 2);
  return Number(v);
}

const link = (ctx: CommandContext) => resolveSettings(ctx).link;
const LEVELS = ["org", "project", "env", "service"] as const;

export const serviceCommands: CommandTable = {
  "services list": {
    summary: "List the services of an environment",
    usage: "services list [org/project/env]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(ctx.args[0], ["org", "project", "env"] as const, link(ctx));
      const rows = await clientFor(ctx).get<ServiceView[]>(`${envsPath(t.org, t.project)}/${seg(t.env)}/services`);
      return { kind: "table", rows, columns: serviceColumns };
    },
  },
  "services get": {
    summary: "Show a service",
    usage: "services get [org/project/env/]<service>",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(ctx.args[0], LEVELS, link(ctx));
      return serviceOutput(await clientFor(ctx).get<ServiceView>(`${envsPath(t.org, t.project)}/${seg(t.env)}/services/${seg(t.service)}`));
    },
  },
  "services create": {
    summary: "Create a service in an environment",
    usage: "services create [org/project/env/]<name> [--slug S] [--platform P] [--image REF] [--git-url URL] [--build-ref REF] [--dockerfile PATH] [--port N]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(requireArg(ctx.args, 0, "<name>"), LEVELS, link(ctx));
      const body = {
        name: t.service,
        slug: flagString(ctx.flags, "slug"),
        platform: flagString(ctx.flags, "platform"),
        image: flagString(ctx.flags, "image"),
        git_url: flagString(ctx.flags, "git-url"),
        build_ref: flagString(ctx.flags, "build-ref"),
        dockerfile_path: flagString(ctx.flags, "dockerfile"),
        port: intFlag(ctx.flags, "port"),
      };
      return serviceOutput(await clientFor(ctx).post<ServiceView>(`${envsPath(t.org, t.project)}/${seg(t.env)}/services`, body));
    },
  },
};
