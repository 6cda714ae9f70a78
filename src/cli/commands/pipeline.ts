// `ancla status`, `rollback [--to N]`, `down [--yes]`, `apps deploy|scale|status` and
// `services scale`: the pipeline and replica commands of a linked (or named) service.
import { AppError } from "../../errors";
import { FOLLOW, noExtraArgs, requireArg, YES } from "../args";
import { clientFor, seg, type ApiClient } from "../client";
import { command, type Command, type CommandContext, type CommandTable, type ContextWith } from "../context";
import { resolveSettings, resolveTarget } from "../settings";
import type { ServiceDetail } from "../../modules/services/model";
import type { DeploymentList, ReplicaView } from "../../modules/deployments/model";
import type { DeployTriggerResponse, PipelineStatus, RollbackResponse } from "../../modules/pipeline/model";
import type { PipelineStageStatus } from "../../modules/images/model";
import { appUrl, finishRun, followDeployment, followPipeline, pipelineQuery, projectPath, servicePath, serviceTarget, TARGET, type ServiceTarget } from "./deploy";

type Stage = PipelineStageStatus | null;

const stageText = (s: Stage) => (s ? `${s.status}${s.version ? ` (v${s.version})` : ""}${s.error_detail ? `: ${s.error_detail}` : ""}` : null);

/** Reference-family app target `[org/project/]app`, the link giving the leading parts. */
function appTarget(ctx: CommandContext, arg?: string) {
  const link = resolveSettings(ctx).link;
  return resolveTarget(arg, ["org", "project", "app"] as const, { org: link.org, project: link.project, app: link.service });
}
const appPath = (t: { org: string; project: string; app: string }) => `/api/v1/applications/${seg(t.org)}/${seg(t.project)}/${seg(t.app)}`;

/** The app named by the first argument (or the link), as a service target in its environment. */
async function locateApp(ctx: CommandContext, client: ApiClient): Promise<{ path: string; target: ServiceTarget }> {
  const a = appTarget(ctx, ctx.args[0]);
  const path = appPath(a);
  const svc = await client.get<ServiceDetail>(path);
  return { path, target: { org: a.org, project: a.project, env: svc.environment_slug ?? "production", service: a.app } };
}

/** `web=2 worker=0` → process counts (a usage error for anything else). */
export function parseCounts(args: string[]): Record<string, number> {
  if (!args.length) throw new AppError(2, "missing process counts, e.g. web=2 worker=0", "usage", 2);
  const counts: Record<string, number> = {};
  for (const a of args) {
    const m = /^([a-z][a-z0-9_-]{0,62})=(\d{1,3})$/.exec(a);
    if (!m) throw new AppError(2, `"${a}" is not a process count; expected <process>=<replicas>, e.g. web=2`, "usage", 2);
    counts[m[1]!] = Number(m[2]);
  }
  return counts;
}

/** Yes from --yes or an interactive confirmation; never without a terminal. */
export function confirm(ctx: ContextWith<{ yes?: boolean }>, question: string): void {
  if (ctx.flags.yes === true) return;
  if (!ctx.io.stdinIsTty) throw new AppError(2, `${question} Refusing without --yes (no terminal to confirm on).`, "usage", 2);
  const answer = prompt(`${question} Type "yes" to continue:`);
  if (answer?.trim().toLowerCase() !== "yes") throw new AppError(1, "aborted", "aborted", 1);
}

const latestDeployment = async (client: ApiClient, serviceId: string) =>
  (await client.get<DeploymentList>(`/api/v1/applications/${seg(serviceId)}/deployments`, { per_page: 1 })).items[0] ?? null;

/** Scale a service by id and follow the in-place scale deployment it started, if any. */
async function scaleAndFollow(ctx: ContextWith<{ follow?: boolean }>, client: ApiClient, serviceId: string, counts: Record<string, number>) {
  const before = await latestDeployment(client, serviceId);
  const svc = await client.post<ServiceDetail>(`/api/v1/applications/${seg(serviceId)}/scale`, { process_counts: counts });
  const after = await latestDeployment(client, serviceId);
  const desc = Object.entries(svc.process_counts ?? {}).map(([p, n]) => `${p}=${n}`).join(" ");
  if (!after || after.id === before?.id) return { kind: "text" as const, text: `Scale stored (${desc}); it applies at the next deploy`, data: svc };
  if (ctx.flags.quiet !== true) ctx.io.err(`Scaling (${desc})…`);
  const log = await followDeployment(ctx, client, after.id);
  if (log.status !== "complete") throw new AppError(1, `scale failed: ${log.error_detail ?? "unknown reason"}`, "scale_failed", 1);
  return { kind: "text" as const, text: `Scaled: ${desc}`, data: svc };
}

/** `… scale <target> web=2 …`: the two command families differ only in how the target is named. */
function scaleCommand(summary: string, usage: string, pathOf: (ctx: CommandContext) => string): Command {
  return command({
    summary,
    usage,
    options: FOLLOW,
    run: async (ctx) => {
      const path = pathOf(ctx);
      const counts = parseCounts(ctx.args.slice(1));
      const client = clientFor(ctx);
      const svc = await client.get<ServiceDetail>(path);
      return scaleAndFollow(ctx, client, svc.id, counts);
    },
  });
}

/** `web 1/2 running`: replicas running of the count asked for (never the count alone: it may not run). */
function runningOverDesired(svc: ServiceDetail): string {
  const replicas = svc.replicas ?? [];
  const processes = new Set([...Object.keys(svc.process_counts ?? {}), ...replicas.map((r) => r.process)]);
  return [...processes]
    .sort()
    .map((p) => `${p} ${replicas.filter((r) => r.process === p && r.state === "running").length}/${svc.process_counts?.[p] ?? 0} running`)
    .join(", ");
}

/** One line per replica: `replica web.1: running, port 32794, container 0123456789ab, 2 restarts`. */
function replicaLines(replicas: ReplicaView[]): Record<string, string> {
  const lines: Record<string, string> = {};
  for (const r of replicas) {
    const state = r.state === "exited" && r.exit_code !== null ? `exited (code ${r.exit_code})` : r.state;
    const parts = [state, r.host_port ? `port ${r.host_port}` : null, `container ${r.container_id}`, `${r.restart_count} restart${r.restart_count === 1 ? "" : "s"}`];
    if (r.last_exit_at) parts.push(`last exit ${r.last_exit_at}${r.exit_code !== null ? ` (code ${r.exit_code})` : ""}`);
    if (r.last_error) parts.push(`last error: ${r.last_error}`);
    if (r.next_attempt_at) parts.push(`next attempt ${r.next_attempt_at}`);
    lines[`replica ${r.process}.${r.replica}`] = parts.filter(Boolean).join(", ");
  }
  return lines;
}

async function statusOf(ctx: CommandContext, t: ServiceTarget) {
  const client = clientFor(ctx);
  const [svc, status] = await Promise.all([
    client.get<ServiceDetail>(servicePath(t)),
    client.get<PipelineStatus>(`${projectPath(t)}/pipeline/status?${pipelineQuery(t)}`),
  ]);
  const url = status.deploy?.status === "complete" || svc.replicas.some((r) => r.state === "running") ? await appUrl(client, t) : null;
  return {
    kind: "object" as const,
    value: {
      service: `${t.org}/${t.project}/${t.env}/${t.service}`,
      url,
      processes: runningOverDesired(svc),
      ...replicaLines(svc.replicas ?? []),
      build: stageText(status.build),
      release: stageText(status.release),
      deploy: stageText(status.deploy),
    },
    data: { service: svc, status, url },
  };
}

export const pipelineCommands: CommandTable = {
  status: command({
    summary: "Show a service's pipeline stages, processes and URL",
    usage: "status [org/project/env/service]",
    options: TARGET,
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      return statusOf(ctx, serviceTarget(ctx, ctx.args[0]));
    },
  }),
  rollback: command({
    summary: "Redeploy the previous successful release (or release N with --to N)",
    usage: "rollback [org/project/env/service]",
    options: { to: { type: "string", value: "VERSION", description: "the release to go back to (default: the previous successful one)" }, "run-release-phase": { type: "boolean", description: "run the Procfile release process again (a rollback or redeploy skips it)" }, ...FOLLOW, ...TARGET },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = serviceTarget(ctx, ctx.args[0]);
      const client = clientFor(ctx);
      const to = ctx.flags.to;
      if (to !== undefined && !/^[1-9]\d{0,9}$/.test(to)) throw new AppError(2, "--to must be a release version (a positive whole number)", "usage", 2);
      const again = ctx.flags["run-release-phase"] === true;
      const started = to
        ? await client.post<{ deployment_id: string; release_version?: number }>(`${servicePath(t)}/deploy`, { version: Number(to), ...(again ? { run_release_phase: true } : {}) })
        : await client.post<RollbackResponse>(`${projectPath(t)}/pipeline/rollback?${pipelineQuery(t)}${again ? "&run_release_phase=true" : ""}`);
      const version = to ? Number(to) : started.release_version;
      if (ctx.flags.quiet !== true) ctx.io.err(`Rolling back ${t.service} to release v${version}…`);
      const log = await followDeployment(ctx, client, started.deployment_id);
      if (log.status !== "complete") throw new AppError(1, `rollback failed: ${log.error_detail ?? "unknown reason"}`, "deploy_failed", 1);
      return { kind: "text", text: `Rolled back ${t.org}/${t.project}/${t.env}/${t.service} to release v${version}`, data: { ok: true, release_version: version, deployment_id: started.deployment_id } };
    },
  }),
  down: command({
    summary: "Scale every process of a service to 0 (asks first; --yes to skip)",
    usage: "down [org/project/env/service]",
    options: { ...YES, ...FOLLOW, ...TARGET },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = serviceTarget(ctx, ctx.args[0]);
      const client = clientFor(ctx);
      const svc = await client.get<ServiceDetail>(servicePath(t));
      const counts = Object.fromEntries(Object.keys({ web: 0, ...(svc.process_counts ?? {}) }).map((p) => [p, 0]));
      confirm(ctx, `Stop every replica of ${t.org}/${t.project}/${t.env}/${t.service}?`);
      return scaleAndFollow(ctx, client, svc.id, counts);
    },
  }),
  "services scale": scaleCommand(
    "Set replica counts of a service's processes (in place, no new release)",
    "services scale [org/project/env/]<service> <process>=<n>…",
    (ctx) => servicePath(serviceTarget(ctx, requireArg(ctx.args, 0, "<service>"))),
  ),
  "apps scale": scaleCommand(
    "Set replica counts of an application's processes",
    "apps scale [org/project/]<app> <process>=<n>…",
    (ctx) => appPath(appTarget(ctx, requireArg(ctx.args, 0, "<app>"))),
  ),
  "apps status": command({
    summary: "Show an application's pipeline stages",
    usage: "apps status [org/project/]<app>",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      return statusOf(ctx, (await locateApp(ctx, clientFor(ctx))).target);
    },
  }),
  "apps deploy": command({
    summary: "Build (git/image source or the last upload), release and deploy an application",
    usage: "apps deploy [org/project/]<app>",
    options: FOLLOW,
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const client = clientFor(ctx);
      const { path, target: t } = await locateApp(ctx, client);
      const started = await client.post<DeployTriggerResponse>(`${path}/deploy`);
      if (ctx.flags.quiet !== true) ctx.io.err(`Pipeline ${started.pipeline_id} queued (image v${started.image_version})`);
      return finishRun(ctx, client, t, await followPipeline(ctx, client, t, started.pipeline_id));
    },
  }),
};
