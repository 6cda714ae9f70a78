// Build context safety: reads an uploaded tar (optionally gzip) and rejects anything that could
// escape the context or abuse the daemon BEFORE it reaches Docker. Also captures a few small
// files (Dockerfile, Procfile) so the build can record them.
import { createGunzip } from "node:zlib";
import { posix } from "node:path";
import { Readable } from "node:stream";
import * as tar from "tar-stream";
import { LinkTable } from "./tar-links";

export class UnsafeContext extends Error {
  constructor(
    message: string,
    readonly status: 400 | 413 | 422 = 422,
  ) {
    super(message);
  }
}

export type ContextInspection = { entries: number; bytes: number; unpackedBytes: number; files: Record<string, string> };

/** Limits of one context: `limit` bounds the unpacked tar (file contents and headers), the rest what they say. */
export type ContextLimits = { limit: number; maxEntries?: number; maxPathLength?: number };

export const DEFAULT_MAX_ENTRIES = 100_000;
export const MAX_PATH_LENGTH = 4096; // PATH_MAX on Linux: a longer name cannot be extracted anyway
const LINK_TABLE_BYTES = 16 * 1024 * 1024;

const ALLOWED = new Set(["file", "contiguous-file", "directory", "symlink", "link"]);
const CAPTURE_LIMIT = 1024 * 1024;
const block = (n: number) => Math.ceil(n / 512) * 512;
// Each entry leaves ~3 KB of short-lived objects (entry stream, header, name strings). In the server
// JSC let 100,000 empty entries grow the heap from 14 to 90 MB before its first collection (+115 MiB
// RSS); asking for a collection every 4,096 entries keeps it near +30 MiB and costs no time.
export const GC_EVERY = 4096;

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

/**
 * What Docker would refuse only once it reaches the entry — after the volume was emptied, in its
 * own words — or read otherwise than the checks did: a name (or a hard link's target) with a `..`
 * segment or a NUL (Go's reader cuts a name at it: `..\0x` is `..`), a name part longer than a
 * file name may be, a hard link to an entry not unpacked before it. 422, else null.
 */
function unpackable(h: tar.Header, seen: Set<number>): UnsafeContext | null {
  const dotdot = (p: string) => p.split(/[\\/]/).includes("..");
  const name = h.name.slice(0, 200).replace(/\0/g, "\\0");
  const link = (h.linkname ?? "").slice(0, 200).replace(/\0/g, "\\0");
  if (h.name.includes("\0") || (h.linkname ?? "").includes("\0")) return new UnsafeContext(`Archive entry '${name}' has a NUL byte in its name or link.`);
  if (dotdot(h.name)) return new UnsafeContext(`Archive entry '${name}' contains a '..' segment; an archive may only hold paths inside the volume.`);
  if (h.name.split("/").some((part) => Buffer.byteLength(part) > 255)) return new UnsafeContext(`Archive entry '${name}' has a name part longer than 255 bytes.`);
  if (h.type === "link") {
    if (dotdot(h.linkname ?? "")) return new UnsafeContext(`Archive entry '${name}' is a hard link to '${link}', outside the volume.`);
    if (!seen.has(nameKey(h.linkname ?? ""))) return new UnsafeContext(`Archive entry '${name}' is a hard link to '${link}', which the archive does not hold before it.`);
  }
  return null;
}
// a name as Docker resolves it, kept as a CRC-32 (a million names in a few MiB; a collision only
// lets a link through that Docker then refuses, in the sender's own volume)
const nameKey = (p: string) => Bun.hash.crc32(posix.normalize(p.replace(/^\/+/, "")).replace(/\/+$/, ""));

const isGzip = (head: Uint8Array) => head.length >= 2 && head[0] === 0x1f && head[1] === 0x8b;

// Entries that carry no contents whatever size their header declares: tar-stream skips that many
// bytes as the entry's body, Docker's reader (Go's archive/tar) skips none and reads those bytes as
// entries of their own — so a sized link could hide from these checks a whole archive (devices,
// sparse files, any number of entries) that Docker then unpacks. Such a header is refused.
const HEADER_ONLY = new Set(["symlink", "link", "directory", "fifo", "character-device", "block-device"]);
/** The refusal (422) for a header-only entry that declares contents, else null. */
function hiddenContents(h: tar.Header, what: string): UnsafeContext | null {
  const size = h.size ?? 0;
  return HEADER_ONLY.has(h.type ?? "file") && size > 0 ? new UnsafeContext(`${what} '${h.name.slice(0, 200)}' is a ${h.type} that declares ${size} bytes of contents; entries of its type carry none.`) : null;
}

/** The 413 for each limit, worded with the setting that raises it. */
const tooLarge = {
  entries: (n: number) => new UnsafeContext(`The build context has more than ${n} entries (--max-context-entries).`, 413),
  bytes: (n: number) => new UnsafeContext(`The build context unpacks to more than ${n} bytes (--max-context-size).`, 413),
  path: (name: string, n: number) => new UnsafeContext(`Context entry '${name.slice(0, 80)}…' has a name longer than ${n} characters.`, 413),
  links: () => new UnsafeContext(`The build context's symbolic links are too many or too long to check (${LINK_TABLE_BYTES} bytes of link names).`, 413),
};

/** One entry's checks, in order: name, type, counts, links. Entries are counted before anything is kept. */
function checkEntry(h: tar.Header, result: ContextInspection, links: LinkTable, limits: Required<ContextLimits>): string {
  const linkname = h.linkname ?? "";
  if (h.name.length > limits.maxPathLength) throw tooLarge.path(h.name, limits.maxPathLength);
  if (linkname.length > limits.maxPathLength) throw tooLarge.path(linkname, limits.maxPathLength);
  const path = contextPath(h.name);
  const type = h.type ?? "file";
  const hidden = hiddenContents(h, "Context entry");
  if (hidden) throw hidden;
  if (!ALLOWED.has(type)) throw new UnsafeContext(`Context entry '${h.name}' is a ${h.type}; only files, directories and links are allowed.`);
  if (++result.entries > limits.maxEntries) throw tooLarge.entries(limits.maxEntries);
  if (result.entries % GC_EVERY === 0) Bun.gc(false);
  result.bytes += h.size ?? 0;
  // header block, plus pax/GNU long-name records for names that do not fit the 100-byte field
  result.unpackedBytes += 512 + block(h.size ?? 0) + (h.name.length > 100 ? 512 + block(h.name.length) : 0) + (linkname.length > 100 ? 512 + block(linkname.length) : 0);
  if (result.unpackedBytes > limits.limit) throw tooLarge.bytes(limits.limit);
  const above = path && links.linkAbove(path);
  if (above) throw new UnsafeContext(`Context entry '${h.name}' lies under the symbolic link '${above}'; entries inside linked directories are not allowed.`);
  if (type === "symlink" || type === "link") {
    if (!linkStaysInside(path, linkname, type)) throw new UnsafeContext(`Context entry '${h.name}' links to '${linkname}', outside the build context.`);
    if (type === "link" && links.linkAbove(contextPath(linkname) + "/")) throw new UnsafeContext(`Context entry '${h.name}' is a hard link to or through a symbolic link ('${linkname}').`);
  }
  if (type === "symlink") {
    if (path === "") throw new UnsafeContext(`Context entry '${h.name}' makes the context root itself a link.`);
    if (!links.add(path, linkname)) throw tooLarge.links();
  } else links.delete(path);
  return path;
}

/**
 * Walks every entry; throws UnsafeContext (422 unsafe entry, 413 over a limit, 400 not a tar) as
 * soon as one is found, so a bomb of millions of entries is refused after the first 100,000.
 * Memory stays flat: entry bodies are drained, only links and captured small files are kept.
 */
export async function inspectContext(
  source: AsyncIterable<Uint8Array> | Uint8Array,
  opts: ContextLimits & { capture?: string[] },
): Promise<ContextInspection> {
  const limits = { maxEntries: DEFAULT_MAX_ENTRIES, maxPathLength: MAX_PATH_LENGTH, ...opts };
  const capture = new Set((opts.capture ?? []).map((c) => contextPath(c)));
  const input = source instanceof Uint8Array ? Readable.from([Buffer.from(source)]) : Readable.from(source);
  input.on("error", () => {}); // reaches us through the iterator below; after a refusal it no longer matters
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
  const result: ContextInspection = { entries: 0, bytes: 0, unpackedBytes: 0, files: {} };
  const links = new LinkTable(LINK_TABLE_BYTES);
  let failure: unknown;
  const fail = (e: Error) => {
    failure ??= e;
    extract.destroy(e);
  };
  // both ends need a listener: pipe() does not forward errors, and an unhandled one ends the server
  // (destroying the input after a refusal makes `rest` fail with "Premature close")
  rest.on("error", fail);
  if (raw !== rest) raw.on("error", fail);
  raw.pipe(extract);
  try {
    for await (const entry of extract) {
      const h = entry.header;
      const path = checkEntry(h, result, links, limits);
      if (capture.has(path) && (h.type === "file" || h.type === "contiguous-file") && (h.size ?? 0) <= CAPTURE_LIMIT) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        result.files[path] = Buffer.concat(chunks).toString("utf8");
      } else entry.resume();
    }
  } catch (e) {
    raw.unpipe(extract);
    extract.destroy();
    input.destroy();
    if (e instanceof UnsafeContext) throw e;
    throw new UnsafeContext(`The build context is not a valid tar or tar.gz archive (${(failure as Error | undefined)?.message ?? (e as Error).message}).`, 400);
  }
  if (failure) throw new UnsafeContext(`The build context is not a valid tar or tar.gz archive (${(failure as Error).message}).`, 400);
  if (result.entries === 0) throw new UnsafeContext("The build context contains no files.", 400);
  const problem = links.findProblem();
  if (problem?.reason === "budget") throw tooLarge.links();
  if (problem) {
    const why = problem.reason === "loop" ? "is part of a symbolic link loop" : "leaves the build context when the links it goes through are followed";
    throw new UnsafeContext(`Context entry '${problem.path}' (a link to '${problem.target}') ${why}.`);
  }
  return result;
}

/** What a tar may unpack to: `maxBytes` of tar (contents, headers, padding, after gunzip) and `maxEntries` entries. */
export type TarBounds = { maxBytes: number; maxEntries: number };

/** A tar that goes past one of its bounds (`kind`: which); the caller words the 413. */
export class TarTooLarge extends Error {
  constructor(
    readonly kind: "bytes" | "entries",
    readonly limit: number,
  ) {
    super(kind === "bytes" ? `The archive unpacks to more than ${limit} bytes.` : `The archive has more than ${limit} entries.`);
  }
}

// what an extraction may create: a build context's types and FIFOs; devices are refused as there, and a sparse entry
// (GNU 'S' has no type here; PAX sparse is a file with GNU.sparse.* records) would unpack to its
// declared size from a body of a few bytes, past the byte count
const BOUNDED_TYPES = new Set([...ALLOWED, "fifo"]);
// where the first entry's header must end: tar-stream takes pax and GNU long-name records of up to 4 MiB each
const FIRST_ENTRY_WITHIN = 16 * 1024 * 1024;
const isSparse = (h: tar.Header) => Object.keys((h as { pax?: Record<string, string> }).pax ?? {}).some((k) => k.startsWith("GNU.sparse."));

// pax records the repacked header carries itself (path, linkpath, size), that are refused (sparse),
// that no reader could agree on (a key with odd characters, a NUL in a value), extended attributes
// (Docker's own backups carry none; security.capability would grant file capabilities) and times or
// ids that are no number Go's reader takes (it refuses the whole archive, after the volume was emptied)
const NUMERIC_PAX = new Set(["mtime", "atime", "ctime", "uid", "gid"]);
const REPACKED_PAX = (key: string, value: string) =>
  key === "path" ||
  key === "linkpath" ||
  key === "size" ||
  key.startsWith("GNU.") ||
  key.startsWith("SCHILY.") ||
  !/^[A-Za-z0-9._:-]{1,200}$/.test(key) ||
  value.includes("\0") ||
  (NUMERIC_PAX.has(key) && !/^\d{1,12}(\.\d{1,9})?$/.test(value));

/** The entry as tar-stream read it, for `tar.pack`: the name, link, size and type it acted on, nothing else to reinterpret. */
function repacked(h: tar.Header): tar.Header {
  const pax = Object.fromEntries(Object.entries((h as { pax?: Record<string, string> }).pax ?? {}).filter(([k, v]) => !REPACKED_PAX(k, v)));
  return {
    name: h.name,
    linkname: h.linkname ?? undefined,
    size: h.type === "file" || h.type === "contiguous-file" || h.type === undefined ? h.size : 0,
    mode: h.mode,
    uid: h.uid,
    gid: h.gid,
    uname: h.uname,
    gname: h.gname,
    mtime: h.mtime,
    type: h.type,
    devmajor: h.devmajor,
    devminor: h.devminor,
    ...(Object.keys(pax).length ? { pax } : {}),
  };
}

/**
 * The tar of `source` (gunzipped when it is gzip) while it stays within `bounds`, **repacked**:
 * every entry tar-stream read and checked is written again with the name, link target, size and
 * type it read, and nothing else reaches the reader. So the reader (Docker, through Go's
 * archive/tar) unpacks exactly the entries that were checked: an archive whose headers two tar
 * readers take differently — a global pax record, a GNU long name beside a pax path, a link that
 * declares contents — cannot show one thing to the checks and another to Docker. The input's
 * bytes are counted as they leave gunzip and tar-stream reads each chunk's entry headers before
 * what the chunk held is passed on, so a reader never gets a byte past either bound or an entry
 * past the limit — the iterator throws TarTooLarge instead (UnsafeContext 422 for a device,
 * sparse or escaping entry, 400 for what is not a tar). The first chunk comes once the first entry
 * passed its checks (or the archive ended), so a caller may await it before it changes anything.
 * Nothing is buffered but what the chunk in hand held.
 */
export async function* boundedTar(source: AsyncIterable<Uint8Array>, bounds: TarBounds): AsyncGenerator<Buffer> {
  let sourceFailure: unknown = null; // the body's own error (a byte cap of the caller's) is passed on as it is
  const input = source[Symbol.asyncIterator]();
  const pull = () =>
    input.next().catch((e) => {
      throw (sourceFailure = e);
    });
  // highWaterMark 1: every write answers false, so 'drain' says the chunk was parsed (and its entries checked)
  const extract = tar.extract({ highWaterMark: 1 });
  const pack = tar.pack();
  let out: Buffer[] = [];
  pack.on("data", (c: unknown) => out.push(c as Buffer));
  const packed = new Promise<void>((resolve, reject) => pack.on("end", resolve).on("error", reject));
  packed.catch(() => {}); // read after a refusal, or never
  let gunzip: Readable | null = null;
  let from: Readable | null = null;
  let failure: Error | null = null;
  let entries = 0;
  const seen = new Set<number>(); // names unpacked so far: what a hard link may point to (bounded by maxEntries)
  const fail = (e: Error) => {
    failure ??= e;
    extract.destroy(e);
  };
  extract.on("error", (e: Error) => (failure ??= e));
  extract.on("entry", (h, body, next) => {
    body.on("error", () => {}); // destroyed with the extract's error after a refusal, which is ours already
    if (++entries > bounds.maxEntries) return fail(new TarTooLarge("entries", bounds.maxEntries));
    if (entries % GC_EVERY === 0) Bun.gc(false); // per-entry garbage, see GC_EVERY
    const hidden = hiddenContents(h, "Archive entry");
    if (hidden) return fail(hidden);
    const refused = unpackable(h, seen);
    if (refused) return fail(refused);
    seen.add(nameKey(h.name));
    if (!BOUNDED_TYPES.has(h.type ?? "file") || isSparse(h))
      return fail(new UnsafeContext(`Archive entry '${h.name.slice(0, 200)}' is a ${isSparse(h) ? "sparse file" : (h.type ?? "entry of an unknown type")}; only files, directories, links and FIFOs can be restored.`));
    const header = repacked(h);
    const sink = pack.entry(header, (err?: Error | null) => (err ? fail(err) : next()));
    if (header.size) body.pipe(sink);
    else {
      body.resume(); // no contents: an empty file, or a link, directory or FIFO (whose sink takes none)
      sink.end(Buffer.alloc(0));
    }
  });
  const parsed = (chunk: Buffer | null) =>
    new Promise<void>((resolve) => {
      const done = (): void => (extract.off("drain", done), extract.off("close", done), extract.off("finish", done), resolve());
      extract.on("drain", done).on("close", done).on("finish", done);
      if (chunk) extract.write(chunk);
      else extract.end(null);
    });
  const notTar = (e: unknown) =>
    e instanceof TarTooLarge || e instanceof UnsafeContext ? e : new UnsafeContext(`The archive is not a valid tar or tar.gz (${(e as Error).message}).`, 400);
  try {
    // peek the first two bytes to tell gzip from plain tar (plain iterators: a Node stream per chunk costs more than the parsing)
    let head = Buffer.alloc(0);
    let ended = false;
    while (head.length < 2 && !ended) {
      const n = await pull();
      if (n.done) ended = true;
      else head = Buffer.concat([head, n.value]);
    }
    async function* rest(): AsyncGenerator<Buffer> {
      if (head.length) yield head;
      if (ended) return;
      for (let n = await pull(); !n.done; n = await pull()) yield Buffer.from(n.value.buffer, n.value.byteOffset, n.value.byteLength);
    }
    let raw: AsyncIterable<Buffer> = rest();
    if (isGzip(head)) {
      from = Readable.from(raw);
      gunzip = from.pipe(createGunzip());
      from.on("error", (e) => gunzip!.destroy(e)); // pipe() does not forward it
      raw = gunzip;
    }
    let bytes = 0;
    const take = () => {
      const ready = out.length === 1 ? out[0]! : Buffer.concat(out);
      out = [];
      return ready;
    };
    for await (const c of raw) {
      const chunk = c as Buffer;
      bytes += chunk.byteLength;
      if (bytes > bounds.maxBytes) throw new TarTooLarge("bytes", bounds.maxBytes);
      await parsed(chunk);
      if (failure) throw failure;
      // zero blocks are skipped as end-of-archive markers: a body of nothing but them (a gzip of zeros) is refused early
      if (entries === 0 && bytes > FIRST_ENTRY_WITHIN) throw new UnsafeContext(`The archive has no entry in its first ${FIRST_ENTRY_WITHIN / 1024 / 1024} MiB.`, 400);
      if (out.length) yield take();
    }
    if (bytes === 0) throw new UnsafeContext("The archive is empty.", 400);
    await parsed(null);
    if (failure) throw failure;
    pack.finalize();
    await packed;
    if (failure) throw failure;
    if (out.length) yield take();
  } catch (e) {
    throw sourceFailure ?? notTar(e);
  } finally {
    extract.destroy();
    pack.destroy();
    gunzip?.destroy();
    from?.destroy();
    // the body stops (a request body is cancelled); not awaited: a client that sends nothing more would hold it
    void input.return?.()?.catch(() => {});
  }
}
