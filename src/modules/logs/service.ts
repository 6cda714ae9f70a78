// Runtime logs of a service: the output of its containers (stdout and stderr, demultiplexed),
// each line prefixed with process and replica (`web.1 | …`) and passed through the service's
// redactor. Without follow: the last `tail` lines of every replica, merged by time. With follow:
// a stream that stays open until the client goes away (then every Docker log stream is closed).
import { PassThrough, type Readable } from "node:stream";
import type { Deps } from "../../deps";
import * as engine from "../../targets/docker/engine";
import { LABEL } from "../../targets/docker/specs";
import { serviceRedactor } from "../config-vars/redaction";
import type { ServiceAccess } from "../services/access";

export type LogOptions = { tail: number; follow: boolean };
type Source = { id: string; prefix: string };

/** Running replicas of the service, ordered by process then replica number. */
async function sourcesOf(deps: Deps, serviceId: string): Promise<Source[]> {
  const list = await engine.listManaged(deps.docker, [`${LABEL.serviceId}=${serviceId}`]);
  return list
    .filter((c) => c.state === "running")
    .map((c) => ({ id: c.id, process: c.labels[LABEL.process] ?? "app", replica: Number(c.labels[LABEL.replica] ?? 0) }))
    .sort((a, b) => (a.process === b.process ? a.replica - b.replica : a.process < b.process ? -1 : 1))
    .map((c) => ({ id: c.id, prefix: `${c.process}.${c.replica}` }));
}

/** Payloads of Docker's multiplexed log frames (8-byte header: stream, 0, 0, 0, size). A TTY log has no frames. */
export function demuxFrames(buf: Buffer): string {
  const framed = buf.length >= 8 && buf[0]! <= 2 && buf[1] === 0 && buf[2] === 0 && buf[3] === 0;
  if (!framed) return buf.toString("utf8");
  const parts: Buffer[] = [];
  let at = 0;
  while (at + 8 <= buf.length) {
    const size = buf.readUInt32BE(at + 4);
    parts.push(buf.subarray(at + 8, at + 8 + size));
    at += 8 + size;
  }
  return Buffer.concat(parts).toString("utf8");
}

const TS = /^(\d{4}-\d\d-\d\dT[\d:.]+Z) ?/;

/** The last lines of every replica, oldest first across replicas (by Docker's timestamps). */
export async function recentLogs(deps: Deps, access: ServiceAccess, tail: number, timestamps = false): Promise<string> {
  const redact = serviceRedactor(deps, access.service.id);
  const lines: { ts: string; n: number; text: string }[] = [];
  let n = 0;
  for (const s of await sourcesOf(deps, access.service.id)) {
    let raw: Buffer;
    try {
      raw = (await deps.docker.getContainer(s.id).logs({ stdout: true, stderr: true, follow: false, tail, timestamps: true })) as unknown as Buffer;
    } catch {
      continue; // removed meanwhile
    }
    for (const line of demuxFrames(Buffer.from(raw)).split("\n")) {
      if (!line) continue;
      const m = TS.exec(line);
      lines.push({ ts: m?.[1] ?? "", n: n++, text: `${timestamps && m ? `${m[1]} ` : ""}${s.prefix} | ${redact(m ? line.slice(m[0].length) : line)}` });
    }
  }
  lines.sort((a, b) => (a.ts === b.ts ? a.n - b.n : a.ts < b.ts ? -1 : 1));
  return lines.map((l) => l.text + "\n").join("");
}

const RESCAN_MS = 2000;

/**
 * A text stream of every replica's output from the last `tail` lines on, until cancelled. Replicas
 * that start later (a redeploy, a scale) are picked up every RESCAN_MS with all their output.
 */
export async function followLogs(deps: Deps, access: ServiceAccess, tail: number, signal: AbortSignal, timestamps = false): Promise<ReadableStream<Uint8Array>> {
  const redact = serviceRedactor(deps, access.service.id);
  const first = await sourcesOf(deps, access.service.id);
  const encoder = new TextEncoder();
  const open = new Map<string, Readable>();
  let timer: ReturnType<typeof setInterval> | undefined;
  let closed = false;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    for (const s of open.values()) s.destroy();
  };
  return new ReadableStream<Uint8Array>({
    async start(controller) {
      const emit = (text: string) => {
        if (!closed) controller.enqueue(encoder.encode(text));
      };
      const end = () => {
        close();
        try {
          controller.close();
        } catch {}
      };
      if (signal.aborted) return end();
      signal.addEventListener("abort", end);
      const attach = async (s: Source, lines: number | "all") => {
        if (closed || open.has(s.id)) return;
        let stream: Readable;
        try {
          stream = (await deps.docker.getContainer(s.id).logs({ stdout: true, stderr: true, follow: true, tail: lines as number, timestamps })) as unknown as Readable;
        } catch {
          return; // gone meanwhile
        }
        if (closed || open.has(s.id)) return void stream.destroy();
        open.set(s.id, stream);
        const sink = new PassThrough();
        let partial = "";
        // with timestamps Docker starts each line with its time: keep it in front of the prefix
        const format = (line: string) => {
          const m = timestamps ? TS.exec(line) : null;
          return m ? `${m[1]} ${s.prefix} | ${redact(line.slice(m[0].length))}\n` : `${s.prefix} | ${redact(line)}\n`;
        };
        sink.on("data", (chunk: Buffer) => {
          const parts = (partial + chunk.toString("utf8")).split("\n");
          partial = parts.pop() ?? "";
          for (const line of parts) emit(format(line));
        });
        deps.docker.modem.demuxStream(stream, sink, sink);
        const done = () => {
          if (partial) emit(format(partial));
          partial = "";
          open.delete(s.id);
        };
        stream.on("end", done);
        stream.on("error", done);
      };
      if (!first.length) emit("(no running replicas yet; waiting for some to start)\n");
      for (const s of first) await attach(s, tail);
      const known = new Set(first.map((s) => s.id));
      timer = setInterval(() => {
        sourcesOf(deps, access.service.id)
          .then((now) => {
            for (const s of now) {
              if (known.has(s.id)) continue;
              known.add(s.id);
              void attach(s, "all"); // started after we began: everything it printed is new
            }
          })
          .catch(() => {});
      }, RESCAN_MS);
    },
    cancel() {
      close();
    },
  });
}
