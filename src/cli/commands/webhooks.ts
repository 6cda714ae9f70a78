// Deploying on git push: `ancla webhooks show|secret|deliveries|redeliver` (a project's GitHub
// webhook and what its deliveries did), `ancla previews list` (pull request environments) and
// `ancla deploy-key show|create|reset-host|delete` (a service's private repository access).
import { noExtraArgs, requireArg } from "../args";
import { clientFor, seg } from "../client";
import { command, type CommandContext, type CommandTable } from "../context";
import type { Column } from "../render";
import { resolveSettings, resolveTarget } from "../settings";
import type { DeliveryView, WebhookSettings } from "../../modules/integrations/model";
import type { DeployKeyView, PreviewView } from "../../modules/integrations/previews-types";
import { projectPath, servicePath, serviceTarget, TARGET } from "./deploy";

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

const webhookOnly: CommandTable = {
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

const previewColumns: Column<PreviewView>[] = [
  { header: "PR", get: (p) => `#${p.number}` },
  { header: "ENV", get: (p) => p.env },
  { header: "STATUS", get: (p) => (p.error ? `${p.status}: ${p.error}` : p.status) },
  { header: "COMMIT", get: (p) => p.head_sha?.slice(0, 12) ?? "" },
  { header: "URL", get: (p) => p.urls[0] ?? "" },
  { header: "LAST ACTIVITY", get: (p) => p.last_activity },
];

const keyText = (k: DeployKeyView) =>
  [
    k.public_key ? `Public key (add it to the repository as a read-only deploy key):\n${k.public_key}\nFingerprint: ${k.fingerprint}` : "No deploy key: create one with `ancla deploy-key create`.",
    k.known_hosts.length ? `Pinned host keys (${k.known_hosts_pinned_at}):\n${k.known_hosts.map((h) => `  ${h.host} ${h.type} ${h.fingerprint}`).join("\n")}` : "Host key: pinned at the next SSH clone.",
    `HTTPS token: ${k.https_token_set ? "set" : "not set"}`,
  ].join("\n");

const keyCommand = (summary: string, usage: string, method: "get" | "post" | "delete", suffix = "") =>
  command({
    summary,
    usage,
    options: TARGET,
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const path = `${servicePath(serviceTarget(ctx, ctx.args[0]))}/deploy-key${suffix}`;
      const client = clientFor(ctx);
      const k = method === "get" ? await client.get<DeployKeyView>(path) : method === "post" ? await client.post<DeployKeyView>(path) : await client.delete<DeployKeyView>(path);
      return { kind: "text", text: keyText(k), data: k };
    },
  });

export const gitAccessCommands: CommandTable = {
  "previews list": command({
    summary: "List the project's pull request preview environments (status, commit, URL)",
    usage: "previews list [org/project]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const r = await clientFor(ctx).get<{ items: PreviewView[] }>(`${projectPath(projectTarget(ctx, ctx.args[0]))}/previews`);
      return { kind: "table", rows: r.items, columns: previewColumns };
    },
  }),
  "deploy-key show": keyCommand("Show a service's deploy key (public half), pinned host keys and HTTPS token state", "deploy-key show [org/project/env/service]", "get"),
  "deploy-key create": keyCommand("Generate a new SSH deploy key for a service's private repository", "deploy-key create [org/project/env/service]", "post"),
  "deploy-key reset-host": keyCommand("Forget the pinned SSH host key (the next clone pins the host's key again)", "deploy-key reset-host [org/project/env/service]", "delete", "/known-hosts"),
  "deploy-key delete": keyCommand("Remove a service's deploy key", "deploy-key delete [org/project/env/service]", "delete"),
};

export const webhookCommands: CommandTable = { ...webhookOnly, ...gitAccessCommands };
