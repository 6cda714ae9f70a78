// `ancla shell [target] [-p process] [-c command]`, `ancla ssh [target] [--process]`: a command
// (default /bin/sh) in a running replica over the exec WebSocket (a PTY when this terminal is
// one); `ancla run --remote -- cmd`: a one-off run on the server; `ancla volumes …`: a
// service's persistent volumes, their backups and restores; `ancla exec-sessions [org]`: the audit.
import { createReadStream, createWriteStream, statSync } from "node:fs";
import { Readable } from "node:stream";
import { AppError } from "../../errors";
import { noExtraArgs, requireArg } from "../args";
import { clientFor, errorFromResponse, NETWORK_EXIT, seg, type ApiClient } from "../client";
import { command, type CommandContext, type CommandTable } from "../context";
import { resolveSettings } from "../settings";
import { followDeployment, servicePath, serviceTarget, TARGET, type ServiceTarget } from "./deploy";

type ExecGrant = { host: string; port: number; token: string; websocket_url: string };
type RunView = { id: string; status: string; exit_code: number | null; error_detail: string | null; output: string | null };
type Volume = { name: string; mount_path: string; size_hint: string | null; docker_volume: string; created: string };

/** The exec session over the WebSocket: stdin → the command, its output → ours; resolves with its exit status. */
export async function execOverWebSocket(grant: ExecGrant, command: string | undefined, io: { tty: boolean }): Promise<number> {
  const ws = new WebSocket(grant.websocket_url);
  ws.binaryType = "arraybuffer";
  const stdin = process.stdin;
  let code: number | null = null;
  let refused = "";
  const tty = io.tty && stdin.isTTY === true && process.stdout.isTTY === true;
  await new Promise<void>((resolve, reject) => {
    ws.addEventListener("open", () => resolve(), { once: true });
    ws.addEventListener("error", () => reject(new AppError(0, `cannot open the exec WebSocket at ${grant.websocket_url}`, "network", NETWORK_EXIT)), { once: true });
  });
  const closed = new Promise<void>((resolve) => ws.addEventListener("close", () => resolve()));
  ws.addEventListener("message", (e) => {
    if (typeof e.data === "string") {
      const m = JSON.parse(e.data) as { type: string; code?: number | null; message?: string };
      if (m.type === "exit") code = m.code ?? 255;
      if (m.type === "error") refused = m.message ?? "refused";
      return;
    }
    const bytes = new Uint8Array(e.data as ArrayBuffer);
    (bytes[0] === 2 ? process.stderr : process.stdout).write(bytes.subarray(1));
  });
  ws.send(JSON.stringify({ token: grant.token, tty, cols: process.stdout.columns, rows: process.stdout.rows, term: process.env.TERM, ...(command ? { command } : {}) }));
  const onResize = () => ws.send(JSON.stringify({ type: "resize", cols: process.stdout.columns, rows: process.stdout.rows }));
  if (tty) {
    stdin.setRawMode(true);
    process.stdout.on("resize", onResize);
  }
  const onData = (d: Buffer) => ws.readyState === WebSocket.OPEN && ws.send(new Uint8Array(d));
  const onEnd = () => ws.readyState === WebSocket.OPEN && ws.send(JSON.stringify({ type: "eof" }));
  stdin.on("data", onData);
  stdin.on("end", onEnd);
  stdin.resume();
  try {
    await closed;
  } finally {
    stdin.off("data", onData);
    stdin.off("end", onEnd);
    stdin.pause();
    if (tty) {
      stdin.setRawMode(false);
      process.stdout.off("resize", onResize);
    }
  }
  if (refused) throw new AppError(1, refused, "exec_refused", 1);
  return code ?? 255;
}

const PROCESS = { process: { type: "string", short: "p", value: "TYPE", description: "the process type to reach (default web)" } } as const;

async function shellInto(ctx: CommandContext<any>, process: string, cmd: string | undefined) {
  noExtraArgs(ctx.args, 1);
  const t = serviceTarget(ctx, ctx.args[0]);
  const grant = await clientFor(ctx).post<ExecGrant>(`${servicePath(t)}/exec`, { process, ...(cmd ? { command: cmd } : {}) });
  const code = await execOverWebSocket(grant, cmd, { tty: true });
  if (code !== 0) throw new AppError(code, `the command exited with code ${code}`, "child_exit", code);
  return { kind: "none" as const };
}

async function streamRun(ctx: CommandContext<any>, client: ApiClient, path: string, command: string): Promise<RunView> {
  const started = await client.post<RunView>(`${path}/runs`, { command });
  let shown = 0;
  for (;;) {
    const r = await client.get<RunView>(`${path}/runs/${seg(started.id)}`);
    const out = r.output ?? "";
    if (out.length > shown) process.stdout.write(out.slice(shown)), (shown = out.length);
    if (r.status !== "running") return r;
    await Bun.sleep(500);
  }
}

/** `ancla run --remote [target] -- cmd`: the command line as one shell line in a one-off container. */
export async function remoteRun(ctx: CommandContext<any>) {
  const t = serviceTarget(ctx, ctx.args[0]);
  const line = ctx.rest.map((a) => (/^[A-Za-z0-9_\/.,:=@%+-]+$/.test(a) ? a : `'${a.replace(/'/g, `'\\''`)}'`)).join(" ");
  const r = await streamRun(ctx, clientFor(ctx), servicePath(t), line);
  if (r.exit_code === 0) return { kind: "none" as const };
  const code = r.exit_code ?? 1;
  throw new AppError(code, r.exit_code === null ? `the run did not finish: ${r.error_detail ?? r.status}` : `${ctx.rest[0]} exited with code ${code}`, "child_exit", code);
}

async function rawRequest(ctx: CommandContext<any>, method: string, path: string, body?: BodyInit, headers: Record<string, string> = {}): Promise<Response> {
  const settings = resolveSettings(ctx);
  if (!settings.apiKey) throw new AppError(401, "not logged in: run `ancla login`, pass --api-key or set ANCLA_API_KEY", "unauthorized", 3);
  let res: Response;
  try {
    res = await fetch(settings.server + path, { method, body, headers: { "x-api-key": settings.apiKey, "user-agent": "ancla-cli", ...headers }, duplex: "half" } as RequestInit);
  } catch (e) {
    throw new AppError(0, `cannot reach the Ancla server at ${settings.server}: ${(e as Error).message}`, "network", NETWORK_EXIT);
  }
  if (!res.ok) {
    const text = await res.text();
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {}
    throw errorFromResponse(res.status, parsed);
  }
  return res;
}

/** Scale every process to `counts` and wait until the scale deployment ended (nothing to wait for when nothing changes). */
async function scaleTo(ctx: CommandContext<any>, client: ApiClient, serviceId: string, counts: Record<string, number>): Promise<void> {
  const newest = async () => (await client.get<{ items: { id: string }[] }>(`/api/v1/applications/${seg(serviceId)}/deployments`, { per_page: 1 })).items[0]?.id;
  const before = await newest();
  await client.post(`/api/v1/applications/${seg(serviceId)}/scale`, { process_counts: counts });
  const after = await newest();
  if (!after || after === before) return;
  const log = await followDeployment({ ...ctx, flags: { ...ctx.flags, follow: false } }, client, after);
  if (log.status !== "complete") throw new AppError(1, `scaling failed: ${log.error_detail ?? "unknown reason"}`, "scale_failed", 1);
}

/** `--scale-down`: every process at 0 while `fn` runs (a consistent copy), the counts put back after, also when it fails. */
async function scaledDown<T>(ctx: CommandContext<any>, t: ServiceTarget, fn: () => Promise<T>): Promise<T> {
  if (ctx.flags["scale-down"] !== true) return fn();
  const client = clientFor(ctx);
  const svc = await client.get<{ id: string; process_counts?: Record<string, number> }>(servicePath(t));
  // no stored counts: web runs one replica
  const counts = Object.keys(svc.process_counts ?? {}).length ? svc.process_counts! : { web: 1 };
  if (!Object.values(counts).some((n) => n > 0)) return fn();
  if (ctx.flags.quiet !== true) ctx.io.err(`Scaling ${t.service} to 0 for a consistent copy…`);
  await scaleTo(ctx, client, svc.id, Object.fromEntries(Object.keys(counts).map((p) => [p, 0])));
  try {
    return await fn();
  } finally {
    if (ctx.flags.quiet !== true) ctx.io.err(`Scaling ${t.service} back up…`);
    await scaleTo(ctx, client, svc.id, counts);
  }
}

async function writeBackup(ctx: CommandContext<any>, t: ServiceTarget, name: string, waitIdle: boolean) {
  const res = await rawRequest(ctx, "GET", `${servicePath(t)}/volumes/${seg(name)}/backup${waitIdle ? "?wait_idle=true" : ""}`);
  const sink = ctx.flags.file ? createWriteStream(ctx.flags.file, { mode: 0o600 }) : process.stdout;
  let bytes = 0;
  for await (const chunk of res.body as unknown as AsyncIterable<Uint8Array>) {
    bytes += chunk.byteLength;
    if (!sink.write(chunk)) await new Promise((r) => sink.once("drain", r));
  }
  if (ctx.flags.file) await new Promise<void>((r) => (sink as ReturnType<typeof createWriteStream>).end(() => r()));
  if (ctx.flags.quiet !== true) ctx.io.err(`Wrote ${bytes} bytes of volume ${name}`);
  return { kind: "none" as const };
}

const SCALE_DOWN = { "scale-down": { type: "boolean", description: "scale every process to 0 first (nothing runs with the volume mounted) and back to its counts after" } } as const;

const VOLUME_COLUMNS = [
  { header: "NAME", get: (v: Volume) => v.name },
  { header: "MOUNT", get: (v: Volume) => v.mount_path },
  { header: "SIZE", get: (v: Volume) => v.size_hint ?? "" },
  { header: "DOCKER VOLUME", get: (v: Volume) => v.docker_volume },
];

export const execCommands: CommandTable = {
  shell: command({
    summary: "Open a shell (or run -c COMMAND) in a running replica of a service",
    usage: "shell [org/project/env/service]",
    options: { ...PROCESS, command: { type: "string", short: "c", value: "COMMAND", description: "what to run (default /bin/sh)" }, ...TARGET },
    run: (ctx) => shellInto(ctx, ctx.flags.process ?? "web", ctx.flags.command),
  }),
  ssh: command({
    summary: "Open a shell in a running replica of a service (as `shell`)",
    usage: "ssh [org/project/env/service]",
    options: { ...PROCESS, ...TARGET },
    run: (ctx) => shellInto(ctx, ctx.flags.process ?? "web", undefined),
  }),
  volumes: command({
    summary: "List a service's persistent volumes",
    usage: "volumes [org/project/env/service]",
    options: TARGET,
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const rows = await clientFor(ctx).get<Volume[]>(`${servicePath(serviceTarget(ctx, ctx.args[0]))}/volumes`);
      return { kind: "table", rows, columns: VOLUME_COLUMNS, data: rows };
    },
  }),
  "volumes add": command({
    summary: "Add a persistent volume, mounted into every process from the next deploy on",
    usage: "volumes add <name> <mount-path> [org/project/env/service]",
    options: { size: { type: "string", value: "SIZE", description: "size hint, e.g. 10Gi" }, ...TARGET },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 3);
      const body = { name: requireArg(ctx.args, 0, "<name>"), mount_path: requireArg(ctx.args, 1, "<mount-path>"), ...(ctx.flags.size ? { size_hint: ctx.flags.size } : {}) };
      const v = await clientFor(ctx).post<Volume>(`${servicePath(serviceTarget(ctx, ctx.args[2]))}/volumes`, body);
      return { kind: "text", text: `Added volume ${v.name} at ${v.mount_path} (deploy to mount it)`, data: v };
    },
  }),
  "volumes remove": command({
    summary: "Stop mounting a volume (its data stays until the service is deleted with --delete-volumes)",
    usage: "volumes remove <name> [org/project/env/service]",
    options: TARGET,
    run: async (ctx) => {
      noExtraArgs(ctx.args, 2);
      const name = requireArg(ctx.args, 0, "<name>");
      await clientFor(ctx).delete(`${servicePath(serviceTarget(ctx, ctx.args[1]))}/volumes/${seg(name)}`);
      return { kind: "text", text: `Volume ${name} is no longer mounted from the next deploy on; its data is kept`, data: { ok: true } };
    },
  }),
  "volumes backup": command({
    summary: "Write a volume's files as tar.gz to --file or stdout",
    usage: "volumes backup <name> [org/project/env/service] > backup.tar.gz",
    options: { file: { type: "string", value: "PATH", description: "write here instead of stdout" }, ...SCALE_DOWN, ...TARGET },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 2);
      const name = requireArg(ctx.args, 0, "<name>");
      if (!ctx.flags.file && process.stdout.isTTY) throw new AppError(2, "the backup is binary: redirect stdout to a file or pass --file PATH", "usage", 2);
      const t = serviceTarget(ctx, ctx.args[1]);
      return scaledDown(ctx, t, () => writeBackup(ctx, t, name, ctx.flags["scale-down"] === true));
    },
  }),
  "volumes restore": command({
    summary: "Replace a volume's files with a tar or tar.gz (from FILE or stdin); nothing may run with it mounted (--scale-down)",
    usage: "volumes restore <name> <file|-> [org/project/env/service]",
    options: { ...SCALE_DOWN, ...TARGET },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 3);
      const name = requireArg(ctx.args, 0, "<name>");
      const file = requireArg(ctx.args, 1, "<file|->");
      // a file that cannot be read is the caller's mistake (exit 2), not a server out of reach
      if (file !== "-") {
        let directory = false;
        try {
          directory = statSync(file).isDirectory();
        } catch (e) {
          throw new AppError(2, `cannot read the archive ${file}: ${(e as NodeJS.ErrnoException).code === "ENOENT" ? "no such file" : (e as Error).message}`, "usage", 2);
        }
        if (directory) throw new AppError(2, `the archive ${file} is a directory; give a tar or tar.gz file (ancla volumes backup makes one)`, "usage", 2);
      }
      const t = serviceTarget(ctx, ctx.args[2]);
      return scaledDown(ctx, t, async () => {
        const source = file === "-" ? process.stdin : createReadStream(file);
        const body = Readable.toWeb(source) as unknown as BodyInit;
        const res = await rawRequest(ctx, "POST", `${servicePath(t)}/volumes/${seg(name)}/restore${ctx.flags["scale-down"] === true ? "?wait_idle=true" : ""}`, body, { "content-type": "application/octet-stream" });
        const out = (await res.json()) as { ok: boolean; bytes: number };
        return { kind: "text" as const, text: `Restored volume ${name} from ${out.bytes} bytes`, data: out };
      });
    },
  }),
  "exec-sessions": command({
    summary: "Every exec into the organization's replicas: who, when, service, command, exit status (org admins)",
    usage: "exec-sessions <org>",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const org = requireArg(ctx.args, 0, "<org>");
      const page = await clientFor(ctx).get<{ items: Record<string, unknown>[] }>(`/api/v1/orgs/${seg(org)}/exec-sessions`, { per_page: 100 });
      return {
        kind: "table",
        rows: page.items,
        data: page,
        columns: [
          { header: "WHEN", get: (s: any) => s.created },
          { header: "USER", get: (s: any) => s.username },
          { header: "SERVICE", get: (s: any) => `${s.service} (${s.process})` },
          { header: "COMMAND", get: (s: any) => s.command },
          { header: "VIA", get: (s: any) => s.transport ?? "unused" },
          { header: "EXIT", get: (s: any) => (s.exit_code === null ? "" : String(s.exit_code)) },
        ],
      };
    },
  }),
};
