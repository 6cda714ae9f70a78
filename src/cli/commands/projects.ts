// `ancla projects …`: list, get and create projects (creating one also creates `production`).
import { noExtraArgs, requireArg } from "../args";
import { clientFor, seg } from "../client";
import { command, type CommandContext, type CommandTable } from "../context";
import type { Column, Output } from "../render";
import { resolveSettings, resolveTarget } from "../settings";

import type { ProjectDetail, ProjectSummary } from "../../modules/projects/model";
import type { OrgDetail } from "../../modules/orgs/model";

const columns: Column<ProjectSummary>[] = [
  { header: "ORG", get: (p) => p.organization_slug },
  { header: "SLUG", get: (p) => p.slug },
  { header: "NAME", get: (p) => p.name },
  { header: "APPS", get: (p) => p.application_count },
  { header: "CREATED", get: (p) => p.created },
];

const detailOutput = (p: ProjectDetail): Output => ({
  kind: "object",
  value: {
    id: p.id,
    slug: p.slug,
    name: p.name,
    organization: `${p.organization_name} (${p.organization_slug})`,
    applications: p.application_count,
    created: p.created,
    updated: p.updated,
  },
  data: p,
});

const link = (ctx: CommandContext) => resolveSettings(ctx).link;

export const projectCommands: CommandTable = {
  "projects list": command({
    summary: "List projects (of one organization, or all of yours)",
    usage: "projects list [org]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const org = ctx.args[0] ?? link(ctx).org;
      const rows = await clientFor(ctx).get<ProjectSummary[]>("/api/v1/projects", { org });
      return { kind: "table", rows, columns };
    },
  }),
  "projects get": command({
    summary: "Show a project",
    usage: "projects get [org/]<project>",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(ctx.args[0], ["org", "project"] as const, link(ctx));
      return detailOutput(await clientFor(ctx).get<ProjectDetail>(`/api/v1/projects/${seg(t.org)}/${seg(t.project)}`));
    },
  }),
  "projects create": command({
    summary: "Create a project with its default `production` environment",
    usage: "projects create [org/]<name>",
    options: { slug: { type: "string", value: "SLUG", description: "URL name (derived from the name when omitted)" } },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(requireArg(ctx.args, 0, "<name>"), ["org", "project"] as const, link(ctx));
      const client = clientFor(ctx);
      // the reference create takes the organization's id, so look it up by slug first
      const org = await client.get<OrgDetail>(`/api/v1/organizations/${seg(t.org)}`);
      const body = { name: t.project, slug: ctx.flags.slug, organization_id: org.id };
      return detailOutput(await client.post<ProjectDetail>("/api/v1/projects", body));
    },
  }),
};
