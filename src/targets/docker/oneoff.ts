// One-off containers (release phase, runs) and exec into running replicas, on the Docker engine.
// A one-off is created from its release like a replica (oneOffSpec), followed through its log
// stream until it exits or its time is up, and always removed. Exec is `docker exec` over a
// hijacked connection: one stream with a TTY, stdout/stderr frames without.
import { PassThrough } from "node:stream";
import { StringDecoder } from "node:string_decoder";
import type { DockerClient } from "./client";
import * as engine from "./engine";
import { ensureProjectNetwork } from "./network";
import { oneOffSpec, podClassOf } from "./specs";
import { ensureVolumes } from "./volumes";
import type { ExecRequest, ExecSession, OneOffHooks, OneOffPlan, OneOffResult } from "../target";

/** Create, start, follow and remove one one-off container; never throws once it started. */
export async function runOneOff(docker: DockerClient, plan: OneOffPlan & { labels?: Record<string, string> }, hooks: OneOffHooks): Promise<OneOffResult> {
  const network = await ensureProjectNetwork(docker, plan, plan.labels);
  const volumes = await ensureVolumes(docker, plan, plan.labels);
  const spec = oneOffSpec({ ...plan, volumes, podClass: podClassOf(plan.podClass), network, labels: plan.labels });
  const since = Date.now();
  const container = docker.getContainer(await engine.startContainer(docker, spec));
  let timedOut = false;
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    void container.kill().catch(() => {});
  };
  const timer = setTimeout(() => ((timedOut = true), stop()), plan.timeoutMs);
  const onAbort = () => stop();
  hooks.signal?.addEventListener("abort", onAbort);
  try {
    await followOutput(docker, container, hooks.output);
    const result = (await container.wait()) as { StatusCode?: number };
    const exitCode = stopped ? null : typeof result.StatusCode === "number" ? result.StatusCode : null;
    return { exitCode, timedOut, durationMs: Date.now() - since };
  } catch {
    return { exitCode: null, timedOut, durationMs: Date.now() - since };
  } finally {
    clearTimeout(timer);
    hooks.signal?.removeEventListener("abort", onAbort);
    await container.remove({ force: true }).catch(() => {});
  }
}

/** Everything the container prints, from its start until it exits. */
async function followOutput(docker: DockerClient, container: ReturnType<DockerClient["getContainer"]>, output: (chunk: string) => void): Promise<void> {
  const stream = (await container.logs({ follow: true, stdout: true, stderr: true })) as unknown as NodeJS.ReadableStream;
  const decoder = new StringDecoder("utf8");
  const sink = new PassThrough();
  sink.on("data", (b: Buffer) => {
    const text = decoder.write(b);
    if (text) output(text);
  });
  docker.modem.demuxStream(stream, sink, sink);
  await new Promise<void>((resolve) => {
    stream.on("end", resolve);
    stream.on("close", resolve);
    stream.on("error", resolve);
  });
  const rest = decoder.end();
  if (rest) output(rest);
}

/** Output an exec keeps before its first listener attaches; then its stream waits. */
const EARLY_OUTPUT_CAP = 1024 * 1024;

/** `docker exec` in a running replica, attached both ways. */
export async function execInReplica(docker: DockerClient, req: ExecRequest): Promise<ExecSession> {
  const container = docker.getContainer(req.replicaId);
  const exec = await container.exec({
    Cmd: req.command,
    AttachStdin: true,
    AttachStdout: true,
    AttachStderr: true,
    Tty: req.tty,
    ...(req.tty ? { Env: [`TERM=${req.term && /^[A-Za-z0-9._+-]{1,64}$/.test(req.term) ? req.term : "xterm"}`] } : {}),
  });
  const stream = (await exec.start({ hijack: true, stdin: true, Tty: req.tty } as never)) as unknown as NodeJS.ReadWriteStream & { destroy: () => void };
  const listeners: ((fd: 1 | 2, data: Uint8Array) => void)[] = [];
  // what the command prints before anyone listens (a shell's banner and first prompt arrive while
  // the terminal is resized below) is kept for the first listener instead of dropped; past
  // EARLY_OUTPUT_CAP the stream is paused until then (the command blocks on a full pipe)
  const early: [1 | 2, Uint8Array][] = [];
  let earlyBytes = 0;
  const emit = (fd: 1 | 2, data: Uint8Array) => {
    if (listeners.length) return listeners.forEach((l) => l(fd, data));
    early.push([fd, data]);
    if ((earlyBytes += data.byteLength) > EARLY_OUTPUT_CAP) stream.pause();
  };
  if (req.tty) stream.on("data", (b: Buffer) => emit(1, b));
  else {
    const out = new PassThrough();
    const err = new PassThrough();
    out.on("data", (b: Buffer) => emit(1, b));
    err.on("data", (b: Buffer) => emit(2, b));
    docker.modem.demuxStream(stream, out, err);
  }
  const resize = async (cols: number, rows: number) => {
    if (!req.tty) return;
    await exec.resize({ w: Math.max(1, Math.min(1000, Math.floor(cols))), h: Math.max(1, Math.min(1000, Math.floor(rows))) }).catch(() => {});
  };
  if (req.tty && req.cols && req.rows) await resize(req.cols, req.rows);
  const ended = new Promise<void>((resolve) => {
    stream.on("end", () => resolve());
    stream.on("close", () => resolve());
    stream.on("error", () => resolve());
  });
  const exited = ended.then(async () => {
    // the stream ends as the process exits; the engine may report it a moment later
    for (let i = 0; i < 50; i++) {
      const info = await exec.inspect().catch(() => null);
      if (!info) return null;
      if (!info.Running) return typeof info.ExitCode === "number" ? info.ExitCode : null;
      await Bun.sleep(100);
    }
    return null;
  });
  return {
    write: (data) => void stream.write(Buffer.from(data)),
    end: () => void stream.end(),
    resize,
    onOutput: (cb) => {
      listeners.push(cb);
      for (const [fd, data] of early.splice(0)) cb(fd, data);
      if (stream.isPaused()) stream.resume();
    },
    exited,
    close: () => stream.destroy(),
  };
}
