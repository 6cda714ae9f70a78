// The files of a volume backup (a gzipped tar as `…/volumes/{name}/backup` answers it), by name.
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
