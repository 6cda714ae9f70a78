// `ancla deployments list|get|log [--follow]`.
import { noExtraArgs, requireArg } from "../args";
import { clientFor, seg } from "../client";
import type { CommandTable } from "../context";
import type { Column } from "../render";
import type { ServiceView } from "./services";
import { servicePath, serviceTarget } from "./deploy";

type Deployment = {
  id: string;
  version: number;
  kind: string;
  status: string;
  error_detail: string | null;
  release: { version?: number };
  deploy_step: { name?: string } | null;
  created: string | null;
};
type Log = { status: string; log_text: string | null; error_detail: string | null };

const columns: Column<Deployment>[] = [
  { header: "VERSION", get: (d) => `v${d.version}` },
  { header: "ID", get: (d) => d.id },
  { header: "KIND", get: (d) => d.kind },
  { header: "RELEASE", get: (d) => (d.release?.version ? `v${d.release.version}` : null) },
  { header: "STATUS", get: (d) => d.status },
  { header: "CREATED", get: (d) => d.created },
];

export const deploymentCommands: CommandTable = {
  "deployments list": {
    summary: "List a service's deployments (newest first)",
    usage: "deployments list [org/project/env/service]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const client = clientFor(ctx);
      const svc = await client.get<ServiceView>(servicePath(serviceTarget(ctx, ctx.args[0])));
      const page = await client.get<{ items: Deployment[] }>(`/api/v1/applications/${seg(svc.id)}/deployments`, { per_page: 50 });
      return { kind: "table", rows: page.items, columns };
    },
  },
  "deployments get": {
    summary: "Show a deployment",
    usage: "deployments get <deployment-id>",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const d = await clientFor(ctx).get<Deployment>(`/api/v1/deployments/${seg(requireArg(ctx.args, 0, "<deployment-id>"))}/detail`);
      return {
        kind: "object",
        value: { id: d.id, version: d.version, kind: d.kind, release: d.release?.version ? `v${d.release.version}` : null, status: d.status, step: d.deploy_step?.name ?? null, error: d.error_detail, created: d.created },
        data: d,
      };
    },
  },
  "deployments log": {
    summary: "Print a deployment's log (--follow: until it ends)",
    usage: "deployments log <deployment-id> [--follow]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const id = requireArg(ctx.args, 0, "<deployment-id>");
      const client = clientFor(ctx);
      let printed = 0;
      for (;;) {
        const log = await client.get<Log>(`/api/v1/deployments/${seg(id)}/log`);
        const lines = (log.log_text ?? "").split("\n").filter(Boolean);
        for (const l of lines.slice(printed)) ctx.io.out(l);
        printed = Math.max(printed, lines.length);
        const done = log.status === "complete" || log.status === "error";
        if (ctx.flags.follow !== true || done) return { kind: "none" };
        await Bun.sleep(500);
      }
    },
  },
};
