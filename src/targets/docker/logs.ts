// Containers' output (stdout and stderr) as lines with Docker's timestamps: the last lines of one
// container, or a live follow of it that ends when the container stops or the caller closes it.
import { PassThrough, type Readable } from "node:stream";
import type { DockerClient } from "./client";
import type { LogFollow, LogLine } from "../target";

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

/** A line as Docker writes it with `timestamps`: its time in front. */
export function splitTimestamp(line: string): LogLine {
  const m = TS.exec(line);
  return m ? { ts: m[1]!, text: line.slice(m[0].length) } : { ts: "", text: line };
}

/** The last `tail` lines of a container; null when it is gone. */
export async function tailLog(docker: DockerClient, id: string, tail: number): Promise<LogLine[] | null> {
  let raw: Buffer;
  try {
    raw = (await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: false, tail, timestamps: true })) as unknown as Buffer;
  } catch {
    return null; // removed meanwhile
  }
  return demuxFrames(Buffer.from(raw)).split("\n").filter(Boolean).map(splitTimestamp);
}

/** Follow a container's output from its last `tail` lines ("all": everything); null when it is gone. */
export async function followLog(docker: DockerClient, id: string, tail: number | "all", onLine: (line: LogLine) => void): Promise<LogFollow | null> {
  let stream: Readable;
  try {
    stream = (await docker.getContainer(id).logs({ stdout: true, stderr: true, follow: true, tail: tail as number, timestamps: true })) as unknown as Readable;
  } catch {
    return null; // gone meanwhile
  }
  const sink = new PassThrough();
  let partial = "";
  sink.on("data", (chunk: Buffer) => {
    const parts = (partial + chunk.toString("utf8")).split("\n");
    partial = parts.pop() ?? "";
    for (const line of parts) onLine(splitTimestamp(line));
  });
  docker.modem.demuxStream(stream, sink, sink);
  const ended = new Promise<void>((resolve) => {
    const done = () => {
      if (partial) onLine(splitTimestamp(partial));
      partial = "";
      resolve();
    };
    stream.on("end", done);
    stream.on("error", done);
  });
  return { close: () => stream.destroy(), ended };
}
