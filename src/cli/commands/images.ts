// `ancla images …`: list a service's images, build from a directory (tar honouring .dockerignore,
// uploaded as tar.gz), and read or follow a build log.
import { mkdtempSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { AppError, Unauthorized } from "../../errors";
import { FOLLOW, noExtraArgs, requireArg } from "../args";
import { clientFor, errorFromResponse, NETWORK_EXIT, seg, type ApiClient } from "../client";
import { command, type CommandContext, type CommandTable, type ContextWith } from "../context";
import type { ImageBuildResponse, ImageDetail, ImageLog, ImageSummary } from "../../modules/images/model";
import type { Column, Output } from "../render";
import { resolveSettings, resolveTarget } from "../settings";
import { followEvents, stoppedEarly } from "../events";

type BuildStarted = ImageBuildResponse;

const LEVELS = ["org", "project", "env", "service"] as const;
const POLL_MS = 200;

const columns: Column<ImageSummary>[] = [
  { header: "VERSION", get: (i) => `v${i.version}` },
  { header: "STATUS", get: (i) => i.status ?? (i.built ? "complete" : i.error ? "error" : "running") },
  { header: "ID", get: (i) => i.id },
  { header: "CREATED", get: (i) => i.created },
];

function servicePath(ctx: CommandContext, arg: string | undefined): string {
  const t = resolveTarget(arg, LEVELS, resolveSettings(ctx).link);
  return `/api/v1/orgs/${seg(t.org)}/projects/${seg(t.project)}/envs/${seg(t.env)}/services/${seg(t.service)}`;
}

const stepText = (s: Record<string, unknown> | null): string | null => {
  if (!s || !s.name) return null;
  if (s.name === "build" && s.index) return `step ${s.index}/${s.total}: ${s.instruction}`;
  return String(s.name);
};

/**
 * Polls the log until the build ends. `onLines` gets new log text (follow mode); `onStep` gets
 * step changes (progress mode). Resolves with the final log response.
 */
async function watchBuild(api: ApiClient, imageId: string, onLines: ((text: string) => void) | null, onStep: ((step: string) => void) | null): Promise<ImageLog> {
  let after = 0;
  let lastStep: string | null = null;
  for (;;) {
    const log = await api.get<ImageLog>(`/api/v1/images/${seg(imageId)}/log`, after ? { after } : undefined);
    if (onLines && log.log_text) onLines(log.log_text.replace(/\n$/, ""));
    after = log.last_line_id ?? after;
    const step = stepText(log.build_step);
    if (onStep && step && step !== lastStep && log.status === "running") onStep(step);
    lastStep = step;
    if (log.status === "complete" || log.status === "error") return log;
    await Bun.sleep(POLL_MS);
  }
}

const kib = (n: number) => (n < 1024 * 1024 ? `${(n / 1024).toFixed(1)} KiB` : `${(n / 1024 / 1024).toFixed(1)} MiB`);

/** Uploads a tar.gz file as the body of the build route (streamed from disk). */
async function uploadContext(ctx: CommandContext, path: string, file: string): Promise<BuildStarted> {
  const settings = resolveSettings(ctx);
  if (!settings.apiKey) throw new Unauthorized("not logged in: run `ancla login`, pass --api-key or set ANCLA_API_KEY");
  let res: Response;
  try {
    res = await fetch(`${settings.server}${path}/images/build`, {
      method: "POST",
      body: Bun.file(file),
      headers: { "content-type": "application/gzip", accept: "application/json", "x-api-key": settings.apiKey, "user-agent": "ancla-cli" },
      redirect: "manual",
    });
  } catch (e) {
    throw new AppError(0, `cannot reach the Ancla server at ${settings.server}: ${(e as Error).message}`, "network", NETWORK_EXIT);
  }
  const text = await res.text();
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    body = undefined;
  }
  if (!res.ok) throw errorFromResponse(res.status, body);
  return body as BuildStarted;
}

async function finish(ctx: ContextWith<{ follow?: boolean }>, api: ApiClient, started: BuildStarted): Promise<Output> {
  const quiet = Boolean(ctx.flags.quiet);
  const follow = Boolean(ctx.flags.follow);
  const log = await watchBuild(
    api,
    started.image_id,
    follow ? (text) => ctx.io.out(text) : null,
    !follow && !quiet ? (step) => ctx.io.err(`  ${step}`) : null,
  );
  if (log.status === "error") {
    if (!follow && !quiet && log.log_text) ctx.io.err(log.log_text.split("\n").slice(-15).join("\n")); // the tail shows why
    throw new AppError(1, `build v${log.version} failed: ${log.error_detail ?? "see the log"} (ancla images log ${started.image_id})`, "build_failed", 1);
  }
  const detail = await api.get<ImageDetail>(`/api/v1/images/${seg(started.image_id)}/detail`);
  return {
    kind: "object",
    value: { image: `${detail.repository_name}:v${detail.version}`, id: detail.id, version: detail.version, status: log.status, processes: Object.keys((detail.processes as object) ?? {}).join(", ") },
    data: detail,
  };
}

export const imageCommands: CommandTable = {
  "images list": command({
    summary: "List the images (builds) of a service",
    usage: "images list [org/project/env/service]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const page = await clientFor(ctx).get<{ items: ImageSummary[] }>(`${servicePath(ctx, ctx.args[0])}/images`, { per_page: 100 });
      return { kind: "table", rows: page.items, columns, data: page };
    },
  }),
  "images build": command({
    summary: "Build an image from a directory (honours .dockerignore) and wait for it",
    usage: "images build [org/project/env/service]",
    options: { path: { type: "string", value: "DIR", description: "the build context (default: the current directory)" }, ...FOLLOW },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const path = servicePath(ctx, ctx.args[0]);
      const dir = resolve(ctx.cwd, ctx.flags.path ?? ".");
      if (!statSync(dir, { throwIfNoEntry: false })?.isDirectory()) throw new AppError(2, `--path ${dir} is not a directory`, "usage", 2);
      const api = clientFor(ctx);
      const quiet = Boolean(ctx.flags.quiet);
      const service = await api.get<{ dockerfile_path?: string }>(path);
      const tmp = mkdtempSync(join(tmpdir(), "ancla-context-"));
      try {
        const file = join(tmp, "context.tar.gz");
        const { writeContextFile } = await import("../../lib/context-tar"); // tar-fs: only when a context is packed
        const size = await writeContextFile(dir, file, { dockerfile: service.dockerfile_path ?? "Dockerfile" });
        if (!quiet) ctx.io.err(`uploading build context from ${dir} (${kib(size)} compressed)`);
        const started = await uploadContext(ctx, path, file);
        if (!quiet) ctx.io.err(`building v${started.version} (image ${started.image_id})`);
        return await finish(ctx, api, started);
      } finally {
        rmSync(tmp, { recursive: true, force: true });
      }
    },
  }),
  "images log": command({
    summary: "Show (or follow with -f) the build log of an image",
    usage: "images log <image-id>",
    options: FOLLOW,
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const id = requireArg(ctx.args, 0, "<image-id>");
      const api = clientFor(ctx);
      if (!ctx.flags.follow) {
        const log = await api.get<ImageLog>(`/api/v1/images/${seg(id)}/log`);
        return { kind: "text", text: (log.log_text ?? "").replace(/\n$/, "") || `(no output yet; build ${log.status})`, data: log };
      }
      // Server-Sent Events: each line as the build writes it, until the build ends
      const end = await followEvents(api, `/api/v1/images/${seg(id)}/log`, (line) => ctx.io.out(line));
      const stopped = stoppedEarly(end);
      if (stopped) throw stopped;
      if (end.status === "error") throw new AppError(1, `build v${end.version} failed: ${end.error_detail ?? "see the log above"}`, "build_failed", 1);
      return { kind: "none" };
    },
  }),
};
