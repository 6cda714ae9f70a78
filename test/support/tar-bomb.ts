// Archives of many empty entries, generated as streams (never held whole): the shape of a
// "tar bomb" that is tiny gzip'd yet costs a server per entry. Headers are written directly
// (ustar, checksum computed) because tar-stream's pack takes ~10 µs per entry.
import { Readable } from "node:stream";
import { createGzip } from "node:zlib";

function header(name: string, type = "0"): Buffer {
  const h = Buffer.alloc(512);
  h.write(name, 0, 100, "utf8");
  h.write("0000644\0", 100);
  h.write("0000000\0", 108);
  h.write("0000000\0", 116);
  h.write("00000000000\0", 124); // size 0
  h.write("00000000000\0", 136);
  h.write("        ", 148); // checksum field counts as spaces while summing
  h.write(type, 156);
  h.write("ustar\0", 257);
  h.write("00", 263);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(sum.toString(8).padStart(6, "0") + "\0 ", 148);
  return h;
}

/** `count` empty files `f0`, `f1`, … plus the end-of-archive blocks; `produced()` says how many were read so far. */
export function emptyEntriesTar(count: number): { stream: Readable; produced: () => number } {
  let made = 0;
  const stream = Readable.from(
    (function* () {
      const batch = 1000;
      for (let i = 0; i < count; i += batch) {
        const blocks: Buffer[] = [];
        for (let j = i; j < Math.min(count, i + batch); j++) blocks.push(header(`f${j}`));
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
