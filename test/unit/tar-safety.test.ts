import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { contextPath, inspectContext, linkStaysInside, UnsafeContext } from "../../src/lib/tar-safety";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(30_000);

type Entry = Partial<tar.Header> & { name: string; body?: string };
async function makeTar(entries: Entry[]): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on("end", () => r()));
  for (const { body, ...h } of entries) pack.entry(h as tar.Header, body ?? "");
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function rejection(buf: Uint8Array, limit = 1 << 20): Promise<UnsafeContext> {
  try {
    await inspectContext(buf, { limit });
  } catch (e) {
    expect(e).toBeInstanceOf(UnsafeContext);
    return e as UnsafeContext;
  }
  throw new Error("expected the context to be rejected");
}

const dockerfile: Entry = { name: "Dockerfile", body: "FROM scratch\n" };

describe("inspectContext", () => {
  test("accepts a normal context (plain and gzip) and captures Dockerfile and Procfile", async () => {
    const buf = await makeTar([
      { name: "./", type: "directory" },
      { name: "./Dockerfile", body: "FROM ancla-test/busybox\n" },
      { name: "./Procfile", body: "web: httpd -f\n" },
      { name: "src/", type: "directory" },
      { name: "src/app.sh", body: "echo hi", mode: 0o755 },
      { name: "src/link", type: "symlink", linkname: "../Dockerfile" },
      { name: "src/hard", type: "link", linkname: "src/app.sh" },
    ]);
    for (const input of [buf, gzipSync(buf)]) {
      const r = await inspectContext(input, { limit: 1 << 20, capture: ["Dockerfile", "Procfile"] });
      expect(r.files).toEqual({ Dockerfile: "FROM ancla-test/busybox\n", Procfile: "web: httpd -f\n" });
      expect(r.entries).toBe(7);
      expect(r.bytes).toBe(24 + 14 + 7);
    }
  });

  test("accepts a streamed body (async iterable of chunks)", async () => {
    const buf = await makeTar([dockerfile, { name: "a.txt", body: "x".repeat(5000) }]);
    async function* chunks() {
      for (let i = 0; i < buf.length; i += 700) yield buf.subarray(i, i + 700);
    }
    expect((await inspectContext(chunks(), { limit: 1 << 20 })).entries).toBe(2);
  });

  const cases: [string, Entry[], RegExp][] = [
    ["absolute path", [dockerfile, { name: "/etc/passwd", body: "x" }], /absolute path/],
    ["'..' segment", [dockerfile, { name: "../escape.txt", body: "x" }], /'\.\.' segment/],
    ["nested '..'", [dockerfile, { name: "a/../../escape.txt", body: "x" }], /'\.\.' segment/],
    ["symlink to an absolute path", [dockerfile, { name: "etc", type: "symlink", linkname: "/etc" }], /outside the build context/],
    ["symlink climbing out", [dockerfile, { name: "a/b/up", type: "symlink", linkname: "../../../x" }], /outside the build context/],
    ["hardlink out", [dockerfile, { name: "h", type: "link", linkname: "../../etc/shadow" }], /outside the build context/],
    ["hardlink absolute", [dockerfile, { name: "h", type: "link", linkname: "/etc/shadow" }], /outside the build context/],
    ["character device", [dockerfile, { name: "null", type: "character-device", devmajor: 1, devminor: 3 }], /character-device/],
    ["block device", [dockerfile, { name: "sda", type: "block-device", devmajor: 8, devminor: 0 }], /block-device/],
    ["fifo", [dockerfile, { name: "pipe", type: "fifo" }], /fifo/],
  ];
  for (const [what, entries, message] of cases) {
    test(`rejects ${what} with 422, plain and gzip`, async () => {
      const buf = await makeTar(entries);
      for (const input of [buf, gzipSync(buf)]) {
        const e = await rejection(input);
        expect(e.status).toBe(422);
        expect(e.message).toMatch(message);
      }
    });
  }

  test("rejects a context whose files exceed the limit with 413 (also when gzip hides the size)", async () => {
    const buf = await makeTar([dockerfile, { name: "big.bin", body: "0".repeat(200_000) }]);
    const gz = gzipSync(buf);
    expect(gz.length).toBeLessThan(10_000);
    for (const input of [buf, gz]) {
      const e = await rejection(input, 100_000);
      expect(e.status).toBe(413);
    }
  });

  test("rejects garbage and empty bodies with 400", async () => {
    expect((await rejection(new TextEncoder().encode("this is not a tar archive at all".repeat(40)))).status).toBe(400);
    expect((await rejection(new Uint8Array())).status).toBe(400);
    expect((await rejection(gzipSync(Buffer.from("not a tar".repeat(100))))).status).toBe(400);
  });
});

describe("path rules", () => {
  test("contextPath normalises harmless forms", () => {
    expect(contextPath("./a//b/")).toBe("a/b");
    expect(contextPath("./")).toBe("");
    expect(() => contextPath("a/../../b")).toThrow(UnsafeContext);
    expect(() => contextPath("C:\\x")).toThrow(UnsafeContext);
  });
  test("linkStaysInside resolves symlinks from their directory and hardlinks from the root", () => {
    expect(linkStaysInside("a/b", "../c", "symlink")).toBe(true);
    expect(linkStaysInside("a/b", "../../c", "symlink")).toBe(false);
    expect(linkStaysInside("a/b", "../c", "link")).toBe(false);
    expect(linkStaysInside("a/b", "a/c", "link")).toBe(true);
    expect(linkStaysInside("x", "", "symlink")).toBe(false);
  });
});
