// Build context safety: reads an uploaded tar (optionally gzip) and rejects anything that could
// escape the context or abuse the daemon BEFORE it reaches Docker. Also captures a few small
// files (Dockerfile, Procfile) so the build can record them.
import { createGunzip } from "node:zlib";
import { posix } from "node:path";
import { Readable } from "node:stream";
import * as tar from "tar-stream";

export class UnsafeContext extends Error {
  constructor(
    message: string,
    readonly status: 400 | 413 | 422 = 422,
  ) {
    super(message);
  }
}

export type ContextInspection = { entries: number; bytes: number; files: Record<string, string> };

const ALLOWED = new Set(["file", "contiguous-file", "directory", "symlink", "link"]);
const CAPTURE_LIMIT = 1024 * 1024;

/** Entry name inside the context: relative, no `..`, normalised (`./a//b` → `a/b`). */
export function contextPath(name: string): string {
  if (name.includes("\0")) throw new UnsafeContext(`Context entry '${name.replace(/\0/g, "\\0")}' contains a NUL byte.`);
  if (name.startsWith("/") || /^[A-Za-z]:[\\/]/.test(name)) throw new UnsafeContext(`Context entry '${name}' has an absolute path.`);
  if (name.split(/[\\/]/).includes("..")) throw new UnsafeContext(`Context entry '${name}' contains a '..' segment.`);
  const norm = posix.normalize(name).replace(/\/+$/, "");
  return norm === "." ? "" : norm.replace(/^\.\//, "");
}

/** Whether a link target stays inside the context (symlinks resolve from their directory). */
export function linkStaysInside(entry: string, target: string, kind: "symlink" | "link"): boolean {
  if (!target || target.startsWith("/")) return false;
  const resolved = kind === "symlink" ? posix.normalize(posix.join(posix.dirname(entry), target)) : posix.normalize(target);
  return resolved !== ".." && !resolved.startsWith("../");
}

const isGzip = (head: Uint8Array) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

/**
 * Walks every entry; throws UnsafeContext (422 unsafe entry, 413 too large, 400 not a tar).
 * `limit` bounds the sum of the entries' sizes (after decompression).
 */
export async function inspectContext(
  source: AsyncIterable<Uint8Array> | Uint8Array,
  opts: { limit: number; capture?: string[] },
): Promise<ContextInspection> {
  const capture = new Set((opts.capture ?? []).map((c) => contextPath(c)));
  const input = source instanceof Uint8Array ? Readable.from([Buffer.from(source)]) : Readable.from(source);
  // peek the first chunk to tell gzip from plain tar
  const iterator = input[Symbol.asyncIterator]();
  const first = await iterator.next();
  const head: Uint8Array = first.done ? new Uint8Array() : (first.value as Uint8Array);
  if (head.length === 0) throw new UnsafeContext("The build context is empty.", 400);
  const rest = Readable.from(
    (async function* () {
      yield Buffer.from(head);
      for (let n = await iterator.next(); !n.done; n = await iterator.next()) yield n.value as Buffer;
    })(),
  );
  const raw = isGzip(head) ? rest.pipe(createGunzip()) : rest;
  const extract = tar.extract();
  const result: ContextInspection = { entries: 0, bytes: 0, files: {} };
  let failure: unknown;
  raw.on("error", (e) => {
    failure ??= e;
    extract.destroy(e);
  });
  raw.pipe(extract);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const path = contextPath(h.name);
      if (!ALLOWED.has(h.type ?? "file")) throw new UnsafeContext(`Context entry '${h.name}' is a ${h.type}; only files, directories and links are allowed.`);
      if ((h.type === "symlink" || h.type === "link") && !linkStaysInside(path, h.linkname ?? "", h.type)) {
        throw new UnsafeContext(`Context entry '${h.name}' links to '${h.linkname}', outside the build context.`);
      }
      result.entries++;
      result.bytes += h.size ?? 0;
      if (result.bytes > opts.limit) throw new UnsafeContext(`The build context is larger than ${opts.limit} bytes.`, 413);
      if (capture.has(path) && (h.type === "file" || h.type === "contiguous-file") && (h.size ?? 0) <= CAPTURE_LIMIT) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        result.files[path] = Buffer.concat(chunks).toString("utf8");
      } else entry.resume();
    }
  } catch (e) {
    raw.unpipe(extract);
    input.destroy();
    if (e instanceof UnsafeContext) throw e;
    throw new UnsafeContext(`The build context is not a valid tar or tar.gz archive (${(failure as Error | undefined)?.message ?? (e as Error).message}).`, 400);
  }
  if (failure) throw new UnsafeContext(`The build context is not a valid tar or tar.gz archive (${(failure as Error).message}).`, 400);
  if (result.entries === 0) throw new UnsafeContext("The build context contains no files.", 400);
  return result;
}
