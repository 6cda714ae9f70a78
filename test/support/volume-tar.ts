// Volume archives in tests: the files of a backup (a gzipped tar as `…/volumes/{name}/backup`
// answers it), by name; and a tar made of given entries, for restores.
import { gunzipSync } from "node:zlib";
import * as tar from "tar-stream";

export async function volumeBackupFiles(gz: Uint8Array): Promise<Record<string, string>> {
  const files: Record<string, string> = {};
  const extract = tar.extract();
  extract.on("entry", (header, stream, next) => {
    const chunks: Buffer[] = [];
    stream.on("data", (c: unknown) => void chunks.push(c as Buffer));
    stream.on("end", () => {
      if (header.type === "file") files[header.name.replace(/^(\.\/|ancla-volume\/)/, "")] = Buffer.concat(chunks).toString("utf8");
      next();
    });
    stream.resume();
  });
  const done = new Promise<void>((r) => extract.on("finish", () => r()));
  extract.end(gunzipSync(gz));
  await done;
  return files;
}

export type TarEntry = Partial<tar.Header> & { name: string; pax?: Record<string, string> };

/** A tar of `entries` (a header and its body; no body for directories, links and devices). */
export async function tarOf(entries: [TarEntry, string | Buffer | undefined][]): Promise<Buffer> {
  const pack = tar.pack();
  for (const [header, body] of entries) body === undefined ? pack.entry(header as tar.Header) : pack.entry(header as tar.Header, body);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
