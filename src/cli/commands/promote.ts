// `ancla promote <org/project/service> --from ENV --to ENV [--yes]`: shows the preview (config
// names only), asks (or --yes), promotes and follows the target deployment.
import { AppError } from "../../errors";
import { FOLLOW, noExtraArgs, YES } from "../args";
import { clientFor, seg } from "../client";
import { command, type CommandTable } from "../context";
import type { PromotionDetail, PromotionPreview } from "../../modules/promotions/model";
import { resolveSettings, resolveTarget } from "../settings";
import { appUrl, followDeployment, projectPath } from "./deploy";
import { confirm } from "./pipeline";

type Preview = PromotionPreview;
type Promotion = PromotionDetail;

export const promoteCommands: CommandTable = {
  promote: command({
    summary: "Promote a service's latest successful release to another environment (same image, the target's config)",
    usage: "promote [org/project/]<service> --from ENV --to ENV",
    options: {
      from: { type: "string", value: "ENV", description: "the environment whose latest successful release is promoted (default: the linked one)" },
      to: { type: "string", value: "ENV", description: "the environment it is deployed to" },
      ...YES,
      ...FOLLOW,
    },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const link = resolveSettings(ctx).link;
      const t = resolveTarget(ctx.args[0], ["org", "project", "service"] as const, link);
      const from = ctx.flags.from ?? link.env;
      const to = ctx.flags.to;
      if (!from || !to) throw new AppError(2, "promote needs --from ENV and --to ENV", "usage", 2);
      const client = clientFor(ctx);
      const q = { service: t.service, source_env: from, target_env: to };
      const p = await client.get<Preview>(`${projectPath(t)}/promote/preview`, q);
      const names = (label: string, list: string[]) => (list.length ? [`  ${label}: ${list.join(", ")}`] : []);
      const lines = [
        `Promote ${t.org}/${t.project}/${t.service}: ${from} release v${p.source_release_version} → ${to}`,
        `  image: ${p.image.repository_name}${p.image.tag ? `:${p.image.tag}` : ""} (${p.image.ref})`,
        ...(p.target_exists ? [] : [`  ${t.service} does not exist in ${to} yet: it is created with the settings of ${from}`]),
        ...names(`config only in ${to}`, p.added),
        ...names(`config only in ${from} (not in ${to})`, p.removed),
        ...names("config that differs", p.changed),
        ...(p.added.length + p.removed.length + p.changed.length === 0 ? ["  config: no differences"] : []),
      ];
      if (ctx.flags.quiet !== true) ctx.io.err(lines.join("\n"));
      confirm(ctx, `Deploy it to ${to}?`);
      const promotion = await client.post<Promotion>(`${projectPath(t)}/promote`, q);
      if (promotion.deployment_id) {
        const log = await followDeployment(ctx, client, promotion.deployment_id);
        if (log.status !== "complete") throw new AppError(1, `promotion failed: ${log.error_detail ?? "unknown reason"}`, "deploy_failed", 1);
      }
      const done = await client.get<Promotion>(`${projectPath(t)}/promotions/${seg(promotion.id)}`);
      if (done.status !== "complete") throw new AppError(1, `promotion ${done.status}: ${done.error_detail ?? ""}`, "deploy_failed", 1);
      const url = await appUrl(client, { org: t.org, project: t.project, env: to, service: t.service });
      return { kind: "text", text: `Promoted to ${to} (release v${done.target_release_version}): ${url}`, data: { ...done, url } };
    },
  }),
};
