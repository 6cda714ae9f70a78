// Streams a build context tar (plain or gzip) through, adding Ancla's Dockerfile (the user's plus
// one LABEL line) and a matching .dockerignore, so labels cost one build step instead of six.
import { createGunzip } from "node:zlib";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import { contextPath, GC_EVERY } from "../../lib/tar-safety";
import { INJECTED_DOCKERFILE, injectedDockerignore } from "./dockerfile-labels";

async function gunzipIfNeeded(input: Readable): Promise<Readable> {
  const it = input[Symbol.asyncIterator]();
  const first = await it.next();
  const head = first.done ? Buffer.alloc(0) : Buffer.from(first.value as Uint8Array);
  const rest = Readable.from(
    (async function* () {
      if (head.length) yield head;
      for (let n = await it.next(); !n.done; n = await it.next()) yield n.value as Buffer;
    })(),
  );
  if (head[0] !== 0x1f || head[1] !== 0x8b) return rest;
  const gunzip = createGunzip();
  rest.on("error", (e) => gunzip.destroy(e)); // pipe() does not forward it; unhandled it would end the server
  return rest.pipe(gunzip);
}

const DOCKERIGNORE_LIMIT = 1024 * 1024;

/** Resolves once `stream` can take more (or is gone: the reader's error surfaces elsewhere). */
const drained = (stream: PassThrough) =>
  new Promise<void>((resolve) => {
    const done = () => (stream.off("drain", done), stream.off("close", done), resolve());
    stream.on("drain", done).on("close", done);
  });

/**
 * The rewritten, uncompressed context; errors surface on the returned stream. tar-stream's pack
 * pushes headers without backpressure, so a context of many empty entries would pile up in memory
 * while Docker reads slowly: pack's output goes straight to `out`, and the next entry waits until
 * `out` has drained. `maxEntries` also bounds contexts that were never uploaded (git checkouts).
 */
export function withInjectedDockerfile(input: Readable, dockerfileText: string, limits: { maxEntries?: number } = {}): Readable {
  const out = new PassThrough();
  const pack = tar.pack();
  const maxEntries = limits.maxEntries ?? Infinity;
  (async () => {
    const extract = tar.extract();
    const source = await gunzipIfNeeded(input);
    source.on("error", (e) => extract.destroy(e));
    source.pipe(extract);
    let ignore: string | null = null;
    let entries = 0;
    for await (const entry of extract) {
      if (++entries > maxEntries) throw new Error(`The build context has more than ${maxEntries} entries (--max-context-entries).`);
      if (entries % GC_EVERY === 0) Bun.gc(false); // per-entry garbage, see tar-safety.ts
      const name = contextPath(entry.header.name);
      if (name === ".dockerignore" || name === INJECTED_DOCKERFILE) {
        if ((entry.header.size ?? 0) > DOCKERIGNORE_LIMIT) throw new Error(`'${name}' is larger than ${DOCKERIGNORE_LIMIT} bytes.`);
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        if (name === ".dockerignore") ignore = Buffer.concat(chunks).toString("utf8");
        continue; // written below, after every other entry
      }
      await pipeline(entry, pack.entry({ ...entry.header }));
      if (out.writableNeedDrain) await drained(out);
      if (out.destroyed) return void (extract.destroy(), input.destroy()); // the reader (Docker) is gone: stop reading (and close) the context
    }
    pack.entry({ name: INJECTED_DOCKERFILE, mode: 0o644 }, dockerfileText);
    pack.entry({ name: ".dockerignore", mode: 0o644 }, injectedDockerignore(ignore));
    pack.finalize();
  })().catch((e) => {
    input.destroy(); // a file or a directory walk: release it
    pack.destroy(e);
    out.destroy(e);
  });
  pack.on("data", (chunk: unknown) => out.destroyed || out.write(chunk as Buffer)); // `out` holds the backlog, where the loop above can see it
  pack.on("end", () => out.end());
  pack.on("error", (e) => out.destroy(e));
  return out;
}
