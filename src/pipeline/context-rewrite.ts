// Streams a build context tar (plain or gzip) through, adding Ancla's Dockerfile (the user's plus
// one LABEL line) and a matching .dockerignore, so labels cost one build step instead of six.
import { createGunzip } from "node:zlib";
import { PassThrough, Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import * as tar from "tar-stream";
import { contextPath } from "../lib/tar-safety";
import { INJECTED_DOCKERFILE, injectedDockerignore } from "./build-spec";

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
  return head[0] === 0x1f && head[1] === 0x8b ? rest.pipe(createGunzip()) : rest;
}

/** The rewritten, uncompressed context; errors surface on the returned stream. */
export function withInjectedDockerfile(input: Readable, dockerfileText: string): Readable {
  const out = new PassThrough();
  const pack = tar.pack();
  (async () => {
    const extract = tar.extract();
    const source = await gunzipIfNeeded(input);
    source.on("error", (e) => extract.destroy(e));
    source.pipe(extract);
    let ignore: string | null = null;
    for await (const entry of extract) {
      const name = contextPath(entry.header.name);
      if (name === ".dockerignore" || name === INJECTED_DOCKERFILE) {
        const chunks: Buffer[] = [];
        for await (const c of entry) chunks.push(c as Buffer);
        if (name === ".dockerignore") ignore = Buffer.concat(chunks).toString("utf8");
        continue; // written below, after every other entry
      }
      await pipeline(entry, pack.entry({ ...entry.header }));
    }
    pack.entry({ name: INJECTED_DOCKERFILE, mode: 0o644 }, dockerfileText);
    pack.entry({ name: ".dockerignore", mode: 0o644 }, injectedDockerignore(ignore));
    pack.finalize();
  })().catch((e) => {
    pack.destroy(e);
    out.destroy(e);
  });
  pack.on("error", (e) => out.destroy(e));
  pack.pipe(out);
  return out;
}
