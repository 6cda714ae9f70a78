// `ancla envs …`: list, get and create a project's environments.
import { noExtraArgs, requireArg } from "../args";
import { clientFor, seg } from "../client";
import { command, type CommandContext, type CommandTable } from "../context";
import type { Column, Output } from "../render";
import { resolveSettings, resolveTarget } from "../settings";
import type { EnvResponse } from "../../modules/envs/model";

type Env = EnvResponse;

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
  "envs list": command({
    summary: "List a project's environments",
    usage: "envs list [org/project]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(ctx.args[0], ["org", "project"] as const, link(ctx));
      const rows = await clientFor(ctx).get<Env[]>(envsPath(t.org, t.project));
      return { kind: "table", rows, columns };
    },
  }),
  "envs get": command({
    summary: "Show an environment",
    usage: "envs get [org/project/]<env>",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(ctx.args[0], ["org", "project", "env"] as const, link(ctx));
      return detailOutput(await clientFor(ctx).get<Env>(`${envsPath(t.org, t.project)}/${seg(t.env)}`));
    },
  }),
  "envs create": command({
    summary: "Create an environment in a project",
    usage: "envs create [org/project/]<name>",
    options: {
      slug: { type: "string", value: "SLUG", description: "URL name (derived from the name when omitted)" },
      type: { type: "string", value: "TYPE", description: "production, staging, development or preview" },
      protected: { type: "boolean", description: "only org admins may deploy, roll back or promote here" },
      "auto-deploy-branch": { type: "string", value: "BRANCH", description: "deploy pushes to this branch" },
      target: { type: "string", value: "docker|kubernetes", description: "where its services run (default docker)" },
    },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(requireArg(ctx.args, 0, "<name>"), ["org", "project", "env"] as const, link(ctx));
      const body = {
        name: t.env,
        slug: ctx.flags.slug,
        env_type: ctx.flags.type,
        protected: ctx.flags.protected === true ? true : undefined,
        auto_deploy_branch: ctx.flags["auto-deploy-branch"],
        target: ctx.flags.target,
      };
      return detailOutput(await clientFor(ctx).post<Env>(envsPath(t.org, t.project), body));
    },
  }),
};
