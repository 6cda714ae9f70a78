// `ancla apps …`: applications are the services of a project's default environment.
import { noExtraArgs } from "../args";
import { clientFor, seg } from "../client";
import { command, type CommandContext, type CommandTable } from "../context";
import { resolveSettings, resolveTarget } from "../settings";
import { serviceColumns, serviceOutput } from "./services";
import type { ApplicationSummary, ServiceDetail } from "../../modules/services/model";

/** Linked defaults; a linked service is the app. */
const defaults = (ctx: CommandContext) => {
  const link = resolveSettings(ctx).link;
  return { org: link.org, project: link.project, app: link.service };
};

export const appCommands: CommandTable = {
  "apps list": command({
    summary: "List a project's applications",
    usage: "apps list [org/project]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(ctx.args[0], ["org", "project"] as const, defaults(ctx));
      const rows = await clientFor(ctx).get<ApplicationSummary[]>(`/api/v1/applications/${seg(t.org)}/${seg(t.project)}`);
      return { kind: "table", rows, columns: serviceColumns };
    },
  }),
  "apps get": command({
    summary: "Show an application",
    usage: "apps get [org/project/]<app>",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(ctx.args[0], ["org", "project", "app"] as const, defaults(ctx));
      return serviceOutput(await clientFor(ctx).get<ServiceDetail>(`/api/v1/applications/${seg(t.org)}/${seg(t.project)}/${seg(t.app)}`));
    },
  }),
};
