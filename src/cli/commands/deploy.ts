// `ancla deploy [path]`: tar the directory (honouring .dockerignore), upload it as the build
// context of a pipeline run (build → release → deploy), show progress, print the app's URL.
// Also the helpers the other pipeline commands share: service targets, following a pipeline run
// or a deployment until it ends (progress on stderr, the result on stdout), the app's URL.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { AppError } from "../../errors";
import { FOLLOW, noExtraArgs, type OptionTable } from "../args";
import { clientFor, errorFromResponse, NETWORK_EXIT, seg, type ApiClient } from "../client";
import { command, type CommandContext, type CommandTable, type ContextWith } from "../context";
import type { DashboardInfo } from "../../modules/dashboard";
import type { DeploymentLog } from "../../modules/deployments/model";
import type { EnvResponse } from "../../modules/envs/model";
import type { DeployTriggerResponse, HistoryItem } from "../../modules/pipeline/model";
import { resolveSettings, resolveTarget } from "../settings";
import { followEvents, stoppedEarly } from "../events";

export type ServiceTarget = { org: string; project: string; env: string; service: string };
export const SERVICE_LEVELS = ["org", "project", "env", "service"] as const;

/** `[org/project/env/]service` from an argument (or --target), the rest from `ancla link`. */
export function serviceTarget(ctx: ContextWith<{ target?: string }>, arg?: string): ServiceTarget {
  return resolveTarget(arg ?? ctx.flags.target, SERVICE_LEVELS, resolveSettings(ctx).link);
}

/** `--target org/project/env/service`: every command that takes a service target accepts it too. */
export const TARGET = { target: { type: "string", value: "ORG/PROJECT/ENV/SERVICE", description: "the service (default: the linked one)" } } as const satisfies OptionTable;

export const projectPath = (t: { org: string; project: string }) => `/api/v1/orgs/${seg(t.org)}/projects/${seg(t.project)}`;
export const servicePath = (t: ServiceTarget) => `${projectPath(t)}/envs/${seg(t.env)}/services/${seg(t.service)}`;
export const pipelineQuery = (t: ServiceTarget) => `service=${encodeURIComponent(t.service)}&env=${encodeURIComponent(t.env)}`;

const POLL_MS = 100;
const quiet = (ctx: CommandContext) => ctx.flags.quiet === true;
const progress = (ctx: CommandContext, text: string) => {
  if (!quiet(ctx)) ctx.io.err(text);
};

/** One pipeline run (build → release → deploy) as the server reports it. */
export type PipelineRun = HistoryItem;
type Following = ContextWith<{ follow?: boolean }>;

/** Prints a deployment log's lines not printed yet (with --follow). */
function deployLogPrinter(ctx: Following, client: ApiClient) {
  let printed = 0;
  let step = "";
  return async (deploymentId: string, stream: boolean): Promise<DeploymentLog> => {
    const log = await client.get<DeploymentLog>(`/api/v1/deployments/${seg(deploymentId)}/log`);
    const lines = (log.log_text ?? "").split("\n").filter(Boolean);
    if (stream) for (const l of lines.slice(printed)) progress(ctx, `  ${l}`);
    printed = Math.max(printed, lines.length);
    const name = typeof log.deploy_step?.name === "string" ? log.deploy_step.name : "";
    if (!stream && name && name !== step && log.status === "running") progress(ctx, `  deploy step: ${name}`);
    step = name;
    return log;
  };
}

/** One line per stage change of a pipeline run. */
function stagePrinter(ctx: Following) {
  const shown = { image: "", release: 0, deploy: "" };
  return (run: PipelineRun) => {
    if (run.image && run.image.status !== "queued" && run.image.status !== shown.image) {
      shown.image = run.image.status;
      progress(ctx, `Build v${run.image.version}: ${run.image.status}`);
    }
    if (run.release && run.release.version !== shown.release) {
      shown.release = run.release.version;
      progress(ctx, `Release v${run.release.version} created`);
    }
    if (run.deployment && run.deployment.status !== shown.deploy) {
      shown.deploy = run.deployment.status;
      progress(ctx, `Deploy v${run.deployment.version}: ${run.deployment.status}`);
    }
  };
}

/**
 * --follow: the build log and then the deploy log streamed as the server writes them (Server-Sent
 * Events), the run's state read only between the stages.
 */
async function streamPipeline(ctx: Following, client: ApiClient, t: ServiceTarget, runId: string): Promise<PipelineRun> {
  const stage = stagePrinter(ctx);
  const read = async () => {
    const run = await client.get<PipelineRun>(`${projectPath(t)}/pipeline/runs/${seg(runId)}`);
    stage(run);
    return run;
  };
  const ended = (run: PipelineRun) => run.status === "complete" || run.status === "error" || run.deployment?.status === "complete";
  const streamLog = async (path: string) => {
    const stopped = stoppedEarly(await followEvents(client, path, (line) => progress(ctx, `  ${line}`)));
    if (stopped) throw stopped;
  };
  let run = await read();
  while (!run.image && !ended(run)) (await Bun.sleep(POLL_MS), (run = await read()));
  if (run.image) await streamLog(`/api/v1/images/${seg(run.image.id)}/log`);
  run = await read();
  while (!run.deployment && !ended(run)) (await Bun.sleep(POLL_MS), (run = await read()));
  if (run.deployment) await streamLog(`/api/v1/deployments/${seg(run.deployment.id)}/log`);
  for (;;) {
    run = await read();
    if (run.status === "complete" || run.status === "error") return run;
    if (run.deployment?.status === "complete") return { ...run, status: "complete" };
    await Bun.sleep(POLL_MS);
  }
}

/** Follow a pipeline run to its end; returns the final run (the caller decides the exit code). */
export async function followPipeline(ctx: Following, client: ApiClient, t: ServiceTarget, runId: string): Promise<PipelineRun> {
  if (ctx.flags.follow === true) return streamPipeline(ctx, client, t, runId);
  const stage = stagePrinter(ctx); // one line per stage change
  const deployLog = deployLogPrinter(ctx, client);
  for (;;) {
    const run = await client.get<PipelineRun>(`${projectPath(t)}/pipeline/runs/${seg(runId)}`);
    stage(run);
    if (run.deployment) await deployLog(run.deployment.id, false);
    if (run.status === "complete" || run.status === "error") return run;
    // the new release serves once its deployment is complete; removing the replaced replicas
    // (a graceful stop) still belongs to the run but is no reason to keep the user waiting
    if (run.deployment?.status === "complete") return { ...run, status: "complete" };
    await Bun.sleep(POLL_MS);
  }
}

/** Follow one deployment (rollback, redeploy, scale, promotion) until it ends. */
export async function followDeployment(ctx: Following, client: ApiClient, deploymentId: string): Promise<DeploymentLog> {
  const print = deployLogPrinter(ctx, client);
  for (;;) {
    const log = await print(deploymentId, ctx.flags.follow === true);
    if (log.status === "complete" || log.status === "error") return log;
    await Bun.sleep(POLL_MS);
  }
}

/** `http://<svc>[.<env>].<project>.<org>.<domain>:<router port>` (the env part only outside the default environment). */
export async function appUrl(client: ApiClient, t: ServiceTarget): Promise<string> {
  const [info, env] = await Promise.all([
    client.get<DashboardInfo>("/api/v1/dashboard/info"),
    client.get<EnvResponse>(`${projectPath(t)}/envs/${seg(t.env)}`),
  ]);
  const host = [t.service, ...(env.is_default ? [] : [t.env]), t.project, t.org, info.domain].join(".");
  const port = info.router_port && info.router_port !== 80 ? `:${info.router_port}` : "";
  return `http://${host}${port}`;
}

/** POST a file as the request body (the JSON client does not stream files). */
async function uploadFile(ctx: CommandContext, client: ApiClient, path: string, file: string, contentType: string): Promise<any> {
  const { server, apiKey } = client.settings;
  if (!apiKey) throw new AppError(401, "not logged in: run `ancla login`, pass --api-key or set ANCLA_API_KEY", "unauthorized", 3);
  let res: Response;
  try {
    res = await fetch(server + path, {
      method: "POST",
      headers: { "x-api-key": apiKey, "content-type": contentType, accept: "application/json", "user-agent": "ancla-cli" },
      body: Bun.file(file),
      redirect: "manual",
    });
  } catch (e) {
    throw new AppError(0, `cannot reach the Ancla server at ${server}: ${(e as Error).message}`, "network", NETWORK_EXIT);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    body = undefined;
  }
  if (!res.ok) throw errorFromResponse(res.status, body);
  return body;
}

const kib = (n: number) => (n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`);

/** Ends a followed pipeline run: the URL and data on success, a non-zero exit otherwise. */
export async function finishRun(ctx: CommandContext, client: ApiClient, t: ServiceTarget, run: PipelineRun) {
  if (run.status !== "complete") {
    throw new AppError(1, `deploy failed${run.stage ? ` at the ${run.stage} stage` : ""}: ${run.error_detail ?? "unknown reason"}`, "deploy_failed", 1);
  }
  const url = await appUrl(client, t);
  const data = { ok: true, url, pipeline_id: run.id, image_version: run.image?.version ?? null, release_version: run.release?.version ?? null, deployment_version: run.deployment?.version ?? null };
  return { kind: "text" as const, text: `Deployed ${t.org}/${t.project}/${t.env}/${t.service} (release v${data.release_version}): ${url}`, data };
}

export const deployCommands: CommandTable = {
  deploy: command({
    summary: "Upload a directory, build, release and deploy it; prints the app's URL",
    usage: "deploy [path]",
    options: { ...TARGET, ...FOLLOW },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const dir = resolve(ctx.cwd, ctx.args[0] ?? ".");
      let isDir = false;
      try {
        isDir = statSync(dir).isDirectory();
      } catch {}
      if (!isDir) throw new AppError(2, `${dir} is not a directory`, "usage", 2);
      const t = serviceTarget(ctx);
      const client = clientFor(ctx);
      const tmp = mkdtempSync(join(tmpdir(), "ancla-deploy-"));
      let started: DeployTriggerResponse;
      try {
        const file = join(tmp, "context.tar.gz");
        const { writeContextFile } = await import("../../lib/context-tar"); // tar-fs: only when a context is packed
        const size = await writeContextFile(dir, file);
        progress(ctx, `Uploading ${dir} (${kib(size)}) to ${t.org}/${t.project}/${t.env}/${t.service}`);
        started = await uploadFile(ctx, client, `${projectPath(t)}/pipeline/deploy?${pipelineQuery(t)}`, file, "application/gzip");
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
      progress(ctx, `Pipeline ${started.pipeline_id} queued (image v${started.image_version})`);
      return finishRun(ctx, client, t, await followPipeline(ctx, client, t, started.pipeline_id));
    },
  }),
};
