// `ancla deployments list|get|log [--follow]`.
import { FOLLOW, noExtraArgs, requireArg } from "../args";
import { clientFor, seg } from "../client";
import { followEvents, stoppedEarly } from "../events";
import { command, type CommandTable } from "../context";
import type { Column } from "../render";
import type { ServiceDetail } from "../../modules/services/model";
import type { DeploymentDetail, DeploymentList, DeploymentLog } from "../../modules/deployments/model";
import { servicePath, serviceTarget, TARGET } from "./deploy";

type Deployment = DeploymentDetail;
const releaseVersion = (d: Deployment) => (typeof d.release?.version === "number" ? `v${d.release.version}` : null);

const columns: Column<Deployment>[] = [
  { header: "VERSION", get: (d) => `v${d.version}` },
  { header: "ID", get: (d) => d.id },
  { header: "KIND", get: (d) => d.kind },
  { header: "RELEASE", get: releaseVersion },
  { header: "STATUS", get: (d) => d.status },
  { header: "CREATED", get: (d) => d.created },
];

export const deploymentCommands: CommandTable = {
  "deployments list": command({
    summary: "List a service's deployments (newest first)",
    usage: "deployments list [org/project/env/service]",
    options: TARGET,
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const client = clientFor(ctx);
      const svc = await client.get<ServiceDetail>(servicePath(serviceTarget(ctx, ctx.args[0])));
      const page = await client.get<DeploymentList>(`/api/v1/applications/${seg(svc.id)}/deployments`, { per_page: 50 });
      return { kind: "table", rows: page.items, columns };
    },
  }),
  "deployments get": command({
    summary: "Show a deployment",
    usage: "deployments get <deployment-id>",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const d = await clientFor(ctx).get<Deployment>(`/api/v1/deployments/${seg(requireArg(ctx.args, 0, "<deployment-id>"))}/detail`);
      return {
        kind: "object",
        value: { id: d.id, version: d.version, kind: d.kind, release: releaseVersion(d), status: d.status, step: d.deploy_step?.name ?? null, error: d.error_detail, created: d.created },
        data: d,
      };
    },
  }),
  "deployments log": command({
    summary: "Print a deployment's log (--follow: until it ends)",
    usage: "deployments log <deployment-id>",
    options: FOLLOW,
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const id = requireArg(ctx.args, 0, "<deployment-id>");
      const client = clientFor(ctx);
      if (ctx.flags.follow === true) {
        // Server-Sent Events: each line as the deploy writes it, until the deploy ends
        const stopped = stoppedEarly(await followEvents(client, `/api/v1/deployments/${seg(id)}/log`, (l) => ctx.io.out(l)));
        if (stopped) throw stopped;
        return { kind: "none" };
      }
      const log = await client.get<DeploymentLog>(`/api/v1/deployments/${seg(id)}/log`);
      for (const l of (log.log_text ?? "").split("\n").filter(Boolean)) ctx.io.out(l);
      return { kind: "none" };
    },
  }),
};
