// Archives of many empty entries, generated as streams (never held whole): the shape of a
// "tar bomb" that is tiny gzip'd yet costs a server per entry. Headers are written directly
// (volume-tar.ts rawHeader) because tar-stream's pack takes ~10 µs per entry.
import { Readable } from "node:stream";
import { createGzip } from "node:zlib";
import { rawHeader } from "./volume-tar";

/** `count` empty files `f0`, `f1`, … plus the end-of-archive blocks; `produced()` says how many were read so far. */
export function emptyEntriesTar(count: number): { stream: Readable; produced: () => number } {
  let made = 0;
  const stream = Readable.from(
    (function* () {
      const batch = 1000;
      for (let i = 0; i < count; i += batch) {
        const blocks: Buffer[] = [];
        for (let j = i; j < Math.min(count, i + batch); j++) blocks.push(rawHeader({ name: `f${j}` }));
        made = Math.min(count, i + batch);
        yield Buffer.concat(blocks);
      }
      yield Buffer.alloc(1024);
    })(),
  );
  return { stream, produced: () => made };
}

/** The same, gzip'd (level 1: generating a million entries stays quick). */
export function emptyEntriesTarGz(count: number): { stream: Readable; produced: () => number } {
  const t = emptyEntriesTar(count);
  return { stream: t.stream.pipe(createGzip({ level: 1 })), produced: t.produced };
}
