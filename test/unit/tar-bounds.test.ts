// lib/tar-safety boundedTar, what a volume restore hands Docker: the archive byte for byte while it
// stays within its bounds, and not one byte past them — a gzip bomb stops at the byte limit, a
// tar of many empty files at the entry limit, a device or sparse entry and what is not a tar at
// once; the first chunk comes only after the first entry passed, so a caller can refuse before
// it changes anything.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { behindSizedLink, rawEnd, rawEntry, rawPax, tarOf, type TarEntry } from "../support/volume-tar";
import { boundedTar, TarTooLarge, UnsafeContext, type TarBounds } from "../../src/lib/tar-safety";

setDefaultTimeout(60_000); // a few MiB through the parser on a loaded machine

const MiB = 1024 * 1024;
const ROOMY: TarBounds = { maxBytes: 1024 * MiB, maxEntries: 1000 };

const files = (n: number, size = 0) => Array.from({ length: n }, (_, i): [TarEntry, Buffer] => [{ name: `f${i}`, mode: 0o644 }, Buffer.alloc(size, i % 251)]);

/** What boundedTar yields for `body` sent in `chunk`-byte pieces: the bytes, and its error if it threw. */
async function through(body: Buffer, bounds: TarBounds, chunk = 64 * 1024) {
  async function* source() {
    for (let i = 0; i < body.length; i += chunk) yield new Uint8Array(body.subarray(i, i + chunk));
  }
  const out: Buffer[] = [];
  let error: Error | null = null;
  try {
    for await (const c of boundedTar(source(), bounds)) out.push(c);
  } catch (e) {
    error = e as Error;
  }
  return { bytes: Buffer.concat(out), error };
}

describe("boundedTar", () => {
  test("passes a tar, and a gzipped one unpacked, through byte for byte, whatever the chunking", async () => {
    const archive = await tarOf([[{ name: "dir", type: "directory", mode: 0o755 }, undefined], [{ name: "dir/a.bin", mode: 0o600, uid: 1000, gid: 1000 }, Buffer.from(Array.from({ length: 70_000 }, (_, i) => i % 256))], [{ name: "link", type: "symlink", linkname: "/data/dir/a.bin" }, undefined], [{ name: "fifo", type: "fifo" }, undefined]]);
    for (const chunk of [1, 511, 4096, 1 << 20]) {
      expect((await through(archive, ROOMY, chunk)).bytes.equals(archive)).toBe(true);
      expect((await through(gzipSync(archive), ROOMY, chunk)).bytes.equals(archive)).toBe(true);
    }
    // an empty tar (an empty volume's backup) is an archive too
    expect((await through(Buffer.alloc(1024), ROOMY)).bytes.length).toBe(1024);
  });

  test("a gzip bomb stops at the byte limit: not one byte past it comes out", async () => {
    const bomb = gzipSync(await tarOf([[{ name: "zeros" }, Buffer.alloc(50 * MiB)]]));
    expect(bomb.length).toBeLessThan(MiB);
    const r = await through(bomb, { maxBytes: 4 * MiB, maxEntries: 10 });
    expect(r.error).toBeInstanceOf(TarTooLarge);
    expect((r.error as TarTooLarge).kind).toBe("bytes");
    expect(r.bytes.length).toBeLessThanOrEqual(4 * MiB);
    expect(r.bytes.length).toBeGreaterThan(3 * MiB); // it did stream up to the limit, not refuse at once
  });

  test("a tar of many empty files stops at the entry limit, before the chunk holding the entry past it", async () => {
    const many = await tarOf(files(1000));
    const r = await through(many, { maxBytes: 1024 * MiB, maxEntries: 100 }, 512);
    expect(r.error).toBeInstanceOf(TarTooLarge);
    expect((r.error as TarTooLarge).kind).toBe("entries");
    // 512-byte chunks: no more than the 100 entries' headers came out (the last may still have been
    // on its way through the repacking when the 101st was refused), never the 101st
    expect(r.bytes.length).toBeGreaterThanOrEqual(99 * 512);
    expect(r.bytes.length).toBeLessThanOrEqual(100 * 512);
    expect((await through(many, { maxBytes: 1024 * MiB, maxEntries: 1000 })).error).toBeNull();
  });

  test("devices and sparse files are refused with 422, a body that is not a tar with 400, before any byte comes out", async () => {
    const device = await through(await tarOf([[{ name: "sda", type: "block-device", devmajor: 8, devminor: 0 }, undefined]]), ROOMY);
    expect(device.error).toBeInstanceOf(UnsafeContext);
    expect(device.error!.message).toBe("Archive entry 'sda' is a block-device; only files, directories, links and FIFOs can be restored.");
    expect((device.error as UnsafeContext).status).toBe(422);
    expect(device.bytes.length).toBe(0);
    // PAX sparse: a file entry of 3 bytes that Docker would unpack to its GNU.sparse.realsize
    const sparse = await through(await tarOf([[{ name: "big", pax: { "GNU.sparse.major": "1", "GNU.sparse.minor": "0", "GNU.sparse.realsize": String(1024 ** 4) } }, "abc"]]), ROOMY);
    expect(sparse.error!.message).toContain("'big' is a sparse file");
    expect(sparse.bytes.length).toBe(0);
    for (const body of [Buffer.from("just some text, not an archive\n".repeat(40)), gzipSync(Buffer.from("text".repeat(300)))]) {
      const junk = await through(body, ROOMY);
      expect(junk.error).toBeInstanceOf(UnsafeContext);
      expect((junk.error as UnsafeContext).status).toBe(400);
      expect(junk.error!.message).toStartWith("The archive is not a valid tar or tar.gz");
      expect(junk.bytes.length).toBe(0);
    }
    // nothing but zero blocks (end-of-archive markers) is not held in memory past the first 16 MiB
    const zeros = await through(gzipSync(Buffer.alloc(64 * MiB)), ROOMY);
    expect([(zeros.error as UnsafeContext).status, zeros.error!.message, zeros.bytes.length]).toEqual([400, "The archive has no entry in its first 16 MiB.", 0]);
    const empty = await through(Buffer.alloc(0), ROOMY);
    expect([(empty.error as UnsafeContext).status, empty.error!.message]).toEqual([400, "The archive is empty."]);
  });

  test("a name or a hard link's target with a '..' segment is refused (422) as it is read; one first in the archive before any byte comes out", async () => {
    const up = await through(await tarOf([[{ name: "../etc/cron.d/x" }, "* * * * * root sh\n"]]), ROOMY);
    expect([up.error?.constructor, (up.error as UnsafeContext).status, up.error!.message, up.bytes.length]).toEqual([
      UnsafeContext,
      422,
      "Archive entry '../etc/cron.d/x' contains a '..' segment; an archive may only hold paths inside the volume.",
      0,
    ]);
    // later in the archive: what came before passes (the caller then leaves the volume empty), nothing after it
    const later = await through(await tarOf([...files(3, 1000), [{ name: "a/../../b" }, "x"], ...files(3, 1000)]), ROOMY, 512);
    expect(later.error!.message).toBe("Archive entry 'a/../../b' contains a '..' segment; an archive may only hold paths inside the volume.");
    expect(later.bytes.length).toBeLessThanOrEqual(3 * 1536);
    const link = await through(await tarOf([[{ name: "shadow", type: "link", linkname: "../../etc/shadow" }, undefined]]), ROOMY);
    expect(link.error!.message).toBe("Archive entry 'shadow' is a hard link to '../../etc/shadow', outside the volume.");
    // a symlink may point anywhere: it is resolved inside the container that mounts the volume
    expect((await through(await tarOf([[{ name: "lib", type: "symlink", linkname: "../usr/lib" }, undefined]]), ROOMY)).error).toBeNull();
  });

  test("what Docker would refuse only after emptying the volume, or read otherwise, is refused (422) or dropped from the repacked archive", async () => {
    const refused = async (body: Buffer) => {
      const r = await through(body, ROOMY);
      expect([(r.error as UnsafeContext | null)?.status, r.bytes.length]).toEqual([422, 0]);
      return r.error!.message;
    };
    // a pax path with a NUL: Go's reader cuts the name there (`..\0x` would be `..`)
    expect(await refused(Buffer.concat([rawPax({ path: "..\0x" }), rawEntry("f", Buffer.from("x")), rawEnd()]))).toBe("Archive entry '..\\0x' has a NUL byte in its name or link.");
    expect(await refused(Buffer.concat([rawPax({ path: `d/${"n".repeat(256)}` }), rawEntry("f", Buffer.from("x")), rawEnd()]))).toEndWith("has a name part longer than 255 bytes.");
    // a hard link to an entry that comes after it (Docker: "no such file or directory", volume emptied)
    expect(await refused(await tarOf([[{ name: "hl", type: "link", linkname: "later" }, undefined], [{ name: "later" }, "x"]]))).toBe("Archive entry 'hl' is a hard link to 'later', which the archive does not hold before it.");
    expect((await through(await tarOf([[{ name: "./dir/first" }, "x"], [{ name: "hl", type: "link", linkname: "dir/first" }, undefined]]), ROOMY)).error).toBeNull();
    // times that are no number (Go refuses the archive) and extended attributes are dropped; the entry stays
    const odd = Buffer.concat([rawPax({ mtime: "abc", "SCHILY.xattr.security.capability": "\u0001\u0002", comment: "kept" }), rawEntry("f", Buffer.from("x\n")), rawEnd()]);
    const r = await through(odd, ROOMY);
    expect(r.error).toBeNull();
    const headers: tar.Header[] = [];
    const extract = tar.extract();
    extract.on("entry", (h, body, next) => (headers.push(h), body.on("end", next), body.resume()));
    await new Promise<void>((done) => (extract.on("finish", done), extract.end(r.bytes)));
    expect(headers.map((h) => [h.name, (h as { pax?: Record<string, string> }).pax ?? null])).toEqual([["f", { path: "f", comment: "kept" }]]);
  });

  test("a link that declares contents is refused (422) before any byte comes out: Docker would unpack what it hides", async () => {
    const hidden = await tarOf([[{ name: "sda", type: "block-device", devmajor: 8, devminor: 0 }, undefined], ...files(50)]);
    for (const body of [await behindSizedLink(hidden), gzipSync(await behindSizedLink(hidden))]) {
      const r = await through(body, { maxBytes: 1024 * MiB, maxEntries: 10 });
      expect(r.error).toBeInstanceOf(UnsafeContext);
      expect((r.error as UnsafeContext).status).toBe(422);
      expect(r.error!.message).toStartWith("Archive entry 'lnk' is a symlink that declares ");
      expect(r.bytes.length).toBe(0);
    }
  });

  test("an error of the source itself comes through as it is (the caller's own byte cap)", async () => {
    const mine = new Error("body too large");
    async function* source() {
      yield new Uint8Array(await tarOf(files(3, 100)));
      throw mine;
    }
    let caught: unknown = null;
    try {
      for await (const _ of boundedTar(source(), ROOMY));
    } catch (e) {
      caught = e;
    }
    expect(caught).toBe(mine);
  });
});
