// `ancla envs …`: list, get and create a project's environments.
import { flagString, noExtraArgs, requireArg } from "../args";
import { clientFor, seg } from "../client";
import type { CommandContext, CommandTable } from "../context";
import type { Column, Output } from "../render";
import { resolveSettings, resolveTarget } from "../settings";

type Env = {
  id: string;
  name: string;
  slug: string;
  env_type: string;
  protected: boolean;
  ephemeral?: boolean;
  target?: string;
  auto_deploy_branch?: string | null;
  namespace?: string | null;
  service_count?: number;
  created?: string | null;
  updated?: string | null;
};

const columns: Column<Env>[] = [
  { header: "SLUG", get: (e) => e.slug },
  { header: "NAME", get: (e) => e.name },
  { header: "TYPE", get: (e) => e.env_type },
  { header: "PROTECTED", get: (e) => (e.protected ? "yes" : "no") },
  { header: "TARGET", get: (e) => e.target },
  { header: "SERVICES", get: (e) => e.service_count },
];

const detailOutput = (e: Env): Output => ({
  kind: "object",
  value: {
    id: e.id,
    slug: e.slug,
    name: e.name,
    type: e.env_type,
    protected: e.protected,
    ephemeral: e.ephemeral,
    target: e.target,
    namespace: e.namespace,
    auto_deploy_branch: e.auto_deploy_branch,
    services: e.service_count,
    created: e.created,
  },
  data: e,
});

const link = (ctx: CommandContext) => resolveSettings(ctx).link;
export const envsPath = (org: string, project: string) => `/api/v1/orgs/${seg(org)}/projects/${seg(project)}/envs`;

export const envCommands: CommandTable = {
  "envs list": {
    summary: "List a project's environments",
    usage: "envs list [org/project]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(ctx.args[0], ["org", "project"] as const, link(ctx));
      const rows = await clientFor(ctx).get<Env[]>(envsPath(t.org, t.project));
      return { kind: "table", rows, columns };
    },
  },
  "envs get": {
    summary: "Show an environment",
    usage: "envs get [org/project/]<env>",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(ctx.args[0], ["org", "project", "env"] as const, link(ctx));
      return detailOutput(await clientFor(ctx).get<Env>(`${envsPath(t.org, t.project)}/${seg(t.env)}`));
    },
  },
  "envs create": {
    summary: "Create an environment in a project",
    usage: "envs create [org/project/]<name> [--slug SLUG] [--type production|staging|development|preview] [--protected] [--auto-deploy-branch BRANCH] [--target docker|kubernetes]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(requireArg(ctx.args, 0, "<name>"), ["org", "project", "env"] as const, link(ctx));
      const body = {
        name: t.env,
        slug: flagString(ctx.flags, "slug"),
        env_type: flagString(ctx.flags, "type"),
        protected: ctx.flags.protected === true ? true : undefined,
        auto_deploy_branch: flagString(ctx.flags, "auto-deploy-branch"),
        target: flagString(ctx.flags, "target"),
      };
      return detailOutput(await clientFor(ctx).post<Env>(envsPath(t.org, t.project), body));
    },
  },
};
