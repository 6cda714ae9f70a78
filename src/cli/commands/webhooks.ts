// `ancla webhooks show|secret|deliveries|redeliver`: a project's GitHub webhook (URL, secret) and
// what its deliveries did.
import { noExtraArgs, requireArg } from "../args";
import { clientFor, seg } from "../client";
import { command, type CommandContext, type CommandTable } from "../context";
import type { Column } from "../render";
import { resolveSettings, resolveTarget } from "../settings";
import type { DeliveryView, WebhookSettings } from "../../modules/integrations/model";
import { projectPath } from "./deploy";

const projectTarget = (ctx: CommandContext, arg?: string) => resolveTarget(arg, ["org", "project"] as const, resolveSettings(ctx).link);

const columns: Column<DeliveryView>[] = [
  { header: "ID", get: (d) => d.id },
  { header: "EVENT", get: (d) => (d.action ? `${d.event}.${d.action}` : d.event) },
  { header: "REF", get: (d) => d.ref ?? "" },
  { header: "COMMIT", get: (d) => d.commit_sha?.slice(0, 12) ?? "" },
  { header: "STATUS", get: (d) => d.status },
  { header: "PIPELINES", get: (d) => d.pipeline_ids.join(",") },
  { header: "MESSAGE", get: (d) => d.message },
  { header: "RECEIVED", get: (d) => d.created },
];

const settingsText = (s: WebhookSettings) =>
  [
    `Payload URL:  ${s.url}`,
    `Content type: ${s.content_type}`,
    `Events:       ${s.events.join(", ")}`,
    `Secret:       ${s.secret ?? (s.project_secret_set ? "set for this project (shown only when set)" : s.server_secret_set ? "the server's --github-webhook-secret" : "none: set one with `ancla webhooks secret`")}`,
  ].join("\n");

export const webhookCommands: CommandTable = {
  "webhooks show": command({
    summary: "Show the GitHub webhook to add to a repository (URL, content type, events)",
    usage: "webhooks show [org/project]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const s = await clientFor(ctx).get<WebhookSettings>(`${projectPath(projectTarget(ctx, ctx.args[0]))}/webhooks`);
      return { kind: "text", text: settingsText(s), data: s };
    },
  }),
  "webhooks secret": command({
    summary: "Generate a new webhook secret for the project (shown once; org admins)",
    usage: "webhooks secret [org/project]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const s = await clientFor(ctx).post<WebhookSettings>(`${projectPath(projectTarget(ctx, ctx.args[0]))}/webhooks/secret`, {});
      return { kind: "text", text: settingsText(s) + "\nPaste the secret into the webhook on GitHub now: it is not shown again.", data: s };
    },
  }),
  "webhooks deliveries": command({
    summary: "List the project's webhook deliveries and what each triggered (newest first)",
    usage: "webhooks deliveries [org/project]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const r = await clientFor(ctx).get<{ items: DeliveryView[] }>(`${projectPath(projectTarget(ctx, ctx.args[0]))}/webhooks/deliveries`);
      return { kind: "table", rows: r.items, columns };
    },
  }),
  "webhooks redeliver": command({
    summary: "Replay a recorded push delivery (deploys its commit again)",
    usage: "webhooks redeliver <delivery-id> [org/project]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 2);
      const id = requireArg(ctx.args, 0, "<delivery-id>");
      const r = await clientFor(ctx).post<{ delivery: DeliveryView }>(`${projectPath(projectTarget(ctx, ctx.args[1]))}/webhooks/deliveries/${seg(id)}/redeliver`);
      return { kind: "text", text: `${r.delivery.status}: ${r.delivery.message}`, data: r.delivery };
    },
  }),
};
