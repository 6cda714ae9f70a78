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

/** The 512-byte blocks of `tar` without its closing zero blocks (to append more entries after it). */
const withoutEnd = (t: Buffer): Buffer => {
  let n = t.length;
  while (n >= 512 && t.subarray(n - 512, n).every((b) => b === 0)) n -= 512;
  return t.subarray(0, n);
};

/**
 * An archive whose first entry is a symlink declaring `hidden`'s length as its size, then `hidden`,
 * then an ordinary file: tar-stream skips `hidden` as the link's contents, Docker's reader (Go's
 * archive/tar, which gives a link no contents) unpacks the entries inside it.
 */
export async function behindSizedLink(hidden: Buffer): Promise<Buffer> {
  const link = Buffer.from(withoutEnd(await tarOf([[{ name: "lnk", type: "symlink", linkname: "visible.txt" }, undefined]])));
  const inner = withoutEnd(hidden);
  link.write(inner.length.toString(8).padStart(11, "0") + "\0", 124, 12, "ascii"); // size field
  sealHeader(link);
  return Buffer.concat([link, inner, await tarOf([[{ name: "visible.txt" }, "v\n"]])]);
}

/** Writes the checksum of the header block at the start of `b` (its own field counts as spaces while summing). */
function sealHeader(b: Buffer): Buffer {
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < 512; i++) sum += b[i]!;
  b.write(sum.toString(8).padStart(6, "0") + "\0 ", 148, 8, "ascii");
  return b;
}

// Raw tar blocks, for archives tar-stream's packer cannot make: headers two tar readers take
// differently (tar-stream, which checks an archive, and Go's archive/tar, which Docker unpacks
// with), and entries by the million faster than it packs them (tar-bomb.ts).
export function rawHeader(o: { name: string; type?: string; size?: number; magic?: "ustar" | "gnu" }): Buffer {
  const b = Buffer.alloc(512);
  b.write(o.name, 0, 100, "utf8");
  b.write("0000644\0", 100, "ascii");
  b.write("0000000\0", 108, "ascii");
  b.write("0000000\0", 116, "ascii");
  b.write((o.size ?? 0).toString(8).padStart(11, "0") + "\0", 124, "ascii");
  b.write("14000000000\0", 136, "ascii");
  b.write(o.type ?? "0", 156, "ascii");
  if (o.magic === "gnu") b.write("ustar  \0", 257, "ascii");
  else b.write("ustar\u000000", 257, "ascii");
  return sealHeader(b);
}
const padded = (d: Buffer) => Buffer.concat([d, Buffer.alloc((512 - (d.length % 512)) % 512)]);
const paxRecords = (rec: Record<string, string>) =>
  Buffer.from(
    Object.entries(rec)
      .map(([k, v]) => {
        const body = ` ${k}=${v}\n`;
        let len = body.length + 1;
        while (String(len).length + body.length !== len) len = String(len).length + body.length;
        return len + body;
      })
      .join(""),
  );
export const rawEntry = (name: string, data: Buffer = Buffer.alloc(0), type = "0") => Buffer.concat([rawHeader({ name, type, size: data.length }), padded(data)]);
export const rawPax = (rec: Record<string, string>, global = false) => Buffer.concat([rawHeader({ name: global ? "pax_global_header" : "PaxHeader/x", type: global ? "g" : "x", size: paxRecords(rec).length }), padded(paxRecords(rec))]);
export const rawGnuLongName = (name: string) => Buffer.concat([rawHeader({ name: "././@LongLink", type: "L", size: name.length + 1, magic: "gnu" }), padded(Buffer.from(name + "\0"))]);
export const rawEnd = () => Buffer.alloc(1024);
