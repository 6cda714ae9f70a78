import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { contextPath, inspectContext, linkStaysInside, UnsafeContext } from "../../src/lib/tar-safety";
import { emptyEntriesTar, emptyEntriesTarGz } from "../support/tar-bomb";
import { behindSizedLink } from "../support/volume-tar";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(120_000);

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

  test("rejects a link that declares contents with 422: Docker's reader would unpack the entries it hides", async () => {
    const hidden = await makeTar([{ name: "sda", type: "block-device", devmajor: 8, devminor: 0 }]);
    const buf = await behindSizedLink(hidden);
    for (const input of [buf, gzipSync(buf)]) {
      const e = await rejection(input);
      expect(e.status).toBe(422);
      expect(e.message).toMatch(/^Context entry 'lnk' is a symlink that declares \d+ bytes of contents/);
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

describe("symbolic link chains (issue 9: links followed through other links)", () => {
  const chainCases: [string, Entry[], RegExp][] = [
    [
      "an entry under a link (d1/d2/s → ../.. then d1/d2/s/esc → ../../..)",
      [dockerfile, { name: "d1/d2/s", type: "symlink", linkname: "../.." }, { name: "d1/d2/s/esc", type: "symlink", linkname: "../../.." }],
      /lies under the symbolic link 'd1\/d2\/s'/,
    ],
    ["a file written through a link", [dockerfile, { name: "in", type: "symlink", linkname: "." }, { name: "in/x.txt", body: "x" }], /lies under the symbolic link 'in'/],
    [
      "a target that leaves once the links it passes are followed (t → s/.., s → d1/d2/up, up → ../..)",
      [dockerfile, { name: "d1/d2/up", type: "symlink", linkname: "../.." }, { name: "s", type: "symlink", linkname: "d1/d2/up" }, { name: "t", type: "symlink", linkname: "s/.." }],
      /'t' \(a link to 's\/\.\.'\) leaves the build context/,
    ],
    [
      "the same chain with the links in reverse order (resolved after the last entry)",
      [dockerfile, { name: "t", type: "symlink", linkname: "s/.." }, { name: "s", type: "symlink", linkname: "d1/d2/up" }, { name: "d1/d2/up", type: "symlink", linkname: "../.." }],
      /leaves the build context/,
    ],
    [
      "a three-link chain (k/l/e → ../../m/n/.., m/n → ../p/q/r, p/q/r → ../..)",
      [
        dockerfile,
        { name: "k/l/e", type: "symlink", linkname: "../../m/n/.." },
        { name: "m/n", type: "symlink", linkname: "../p/q/r" },
        { name: "p/q/r", type: "symlink", linkname: "../.." },
      ],
      /'k\/l\/e'.*leaves the build context/,
    ],
    ["the root itself as a link", [{ name: "./", type: "symlink", linkname: "." }, dockerfile], /the context root itself a link/],
    ["a link loop", [dockerfile, { name: "a", type: "symlink", linkname: "b" }, { name: "b", type: "symlink", linkname: "a" }], /symbolic link loop/],
    ["a hard link to a symlink", [dockerfile, { name: "d/up", type: "symlink", linkname: ".." }, { name: "h", type: "link", linkname: "d/up" }], /hard link to or through a symbolic link/],
    ["a hard link through a symlink", [dockerfile, { name: "d", type: "symlink", linkname: "." }, { name: "h", type: "link", linkname: "d/Dockerfile" }], /hard link to or through a symbolic link/],
  ];
  for (const [what, entries, message] of chainCases) {
    test(`rejects ${what} with 422, plain and gzip`, async () => {
      const buf = await makeTar(entries);
      for (const input of [buf, gzipSync(buf)]) {
        const e = await rejection(input);
        expect(e.status).toBe(422);
        expect(e.message).toMatch(message);
      }
    });
  }

  test("accepts links that stay inside, also through other links (node_modules/.bin, current → releases/v1)", async () => {
    const buf = await makeTar([
      dockerfile,
      { name: "node_modules/pkg/bin.js", body: "#!/bin/sh" },
      { name: "node_modules/.bin/pkg", type: "symlink", linkname: "../pkg/bin.js" },
      { name: "releases/v1/app.sh", body: "echo" },
      { name: "current", type: "symlink", linkname: "releases/v1" },
      { name: "run", type: "symlink", linkname: "current/app.sh" },
      { name: "up", type: "symlink", linkname: "current/.." },
      { name: "dangling", type: "symlink", linkname: "no/such/file" },
      { name: "self", type: "symlink", linkname: "." },
    ]);
    expect((await inspectContext(buf, { limit: 1 << 20 })).entries).toBe(9);
  });
});

describe("upload limits (issue 9: entries, unpacked bytes, name length)", () => {
  test("a tar of a million empty entries is refused with 413 after the first 100,000, without reading the rest", async () => {
    const bomb = emptyEntriesTarGz(1_000_000);
    const e = await inspectContext(bomb.stream, { limit: 1 << 30 }).then(
      () => null,
      (x) => x as UnsafeContext,
    );
    expect(e).toBeInstanceOf(UnsafeContext);
    expect(e!.status).toBe(413);
    expect(e!.message).toContain("more than 100000 entries (--max-context-entries)");
    expect(bomb.produced()).toBeLessThan(300_000); // stopped early, not after inspecting a million
  });

  test("the entry limit is configurable", async () => {
    expect((await inspectContext(await makeTar([dockerfile, { name: "a" }, { name: "b" }]), { limit: 1 << 20 })).entries).toBe(3);
    const limited = await inspectContext(await makeTar([dockerfile, { name: "a" }, { name: "b" }]), { limit: 1 << 20, maxEntries: 2 }).catch((x) => x as UnsafeContext);
    expect(limited).toBeInstanceOf(UnsafeContext);
    expect((limited as UnsafeContext).status).toBe(413);
  });

  test("headers count towards the unpacked size: 1,000 empty entries do not fit in 100 KB", async () => {
    const { stream } = emptyEntriesTar(1000);
    const e = await inspectContext(stream, { limit: 100_000 }).catch((x) => x as UnsafeContext);
    expect(e).toBeInstanceOf(UnsafeContext);
    expect((e as UnsafeContext).status).toBe(413);
    expect((e as UnsafeContext).message).toContain("unpacks to more than 100000 bytes");
  });

  test("names and link targets longer than 4096 characters are refused with 413", async () => {
    const long = "d/".repeat(2100) + "f";
    for (const entry of [{ name: long, body: "x" }, { name: "l", type: "symlink" as const, linkname: "a/".repeat(2100) + "b" }]) {
      const e = await rejection(await makeTar([dockerfile, entry]));
      expect(e.status).toBe(413);
      expect(e.message).toContain("longer than 4096 characters");
    }
  });
});
