// `ancla releases list|create|deploy` of a service (linked or named).
import { AppError } from "../../errors";
import { FOLLOW, noExtraArgs, requireArg } from "../args";
import { clientFor, seg } from "../client";
import { command, type CommandTable } from "../context";
import type { Column } from "../render";
import type { ServiceDetail } from "../../modules/services/model";
import type { ReleaseCreateResponse, ReleaseSummary } from "../../modules/releases/model";
import { followDeployment, servicePath, serviceTarget, TARGET } from "./deploy";

type Release = ReleaseSummary;

const columns: Column<Release>[] = [
  { header: "VERSION", get: (r) => `v${r.version}` },
  { header: "ID", get: (r) => r.id },
  { header: "STATUS", get: (r) => (r.error ? "error" : r.built ? "ready" : "pending") },
  { header: "CREATED", get: (r) => r.created },
];

export const releaseCommands: CommandTable = {
  "releases list": command({
    summary: "List a service's releases (newest first)",
    usage: "releases list [org/project/env/service]",
    options: TARGET,
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const rows = await clientFor(ctx).get<Release[]>(`${servicePath(serviceTarget(ctx, ctx.args[0]))}/releases`);
      return { kind: "table", rows, columns };
    },
  }),
  "releases create": command({
    summary: "Create a release from the latest built image and the current config",
    usage: "releases create [org/project/env/service]",
    options: TARGET,
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const client = clientFor(ctx);
      const svc = await client.get<ServiceDetail>(servicePath(serviceTarget(ctx, ctx.args[0])));
      const r = await client.post<ReleaseCreateResponse>(`/api/v1/releases/${seg(svc.id)}/create`);
      return { kind: "text", text: `Created release v${r.version} (${r.release_id})`, data: r };
    },
  }),
  "releases deploy": command({
    summary: "Deploy release N of a service (an older one is a rollback)",
    usage: "releases deploy <version> [org/project/env/service]",
    options: { "run-release-phase": { type: "boolean", description: "run the Procfile release process again (a rollback or redeploy skips it)" }, ...FOLLOW, ...TARGET },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 2);
      const v = requireArg(ctx.args, 0, "<version>").replace(/^v/, "");
      if (!/^[1-9]\d{0,9}$/.test(v)) throw new AppError(2, `"${ctx.args[0]}" is not a release version`, "usage", 2);
      const t = serviceTarget(ctx, ctx.args[1]);
      const client = clientFor(ctx);
      const started = await client.post<{ deployment_id: string }>(`${servicePath(t)}/deploy`, { version: Number(v), ...(ctx.flags["run-release-phase"] === true ? { run_release_phase: true } : {}) });
      if (ctx.flags.quiet !== true) ctx.io.err(`Deploying release v${v} (deployment ${started.deployment_id})…`);
      const log = await followDeployment(ctx, client, started.deployment_id);
      if (log.status !== "complete") throw new AppError(1, `deploy failed: ${log.error_detail ?? "unknown reason"}`, "deploy_failed", 1);
      return { kind: "text", text: `Release v${v} is serving`, data: { ok: true, deployment_id: started.deployment_id, version: Number(v) } };
    },
  }),
};
