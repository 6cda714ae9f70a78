import { describe, expect, test, setDefaultTimeout } from "bun:test";
import { Readable } from "node:stream";
import { createGzip, gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { withInjectedDockerfile } from "../../src/targets/docker/context-rewrite";
import { emptyEntriesTar } from "../support/tar-bomb";
import { rejectionOf } from "../support/settle";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(120_000);

async function makeTar(files: Record<string, string>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => chunks.push(c as Buffer));
  const done = new Promise<void>((r) => pack.on("end", () => r()));
  for (const [name, body] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, body);
  pack.finalize();
  await done;
  return Buffer.concat(chunks);
}

async function entries(stream: Readable): Promise<Record<string, string>> {
  const extract = tar.extract();
  stream.on("error", (e) => extract.destroy(e));
  stream.pipe(extract);
  const out: Record<string, string> = {};
  for await (const e of extract) {
    const chunks: Buffer[] = [];
    for await (const c of e) chunks.push(c as Buffer);
    out[e.header.name] = Buffer.concat(chunks).toString();
  }
  return out;
}

describe("withInjectedDockerfile", () => {
  test("keeps every entry, adds the labelled Dockerfile and extends .dockerignore (plain and gzip)", async () => {
    const src = await makeTar({ Dockerfile: "FROM x\n", "app/main.sh": "echo hi", ".dockerignore": "*.log\n" });
    for (const input of [src, gzipSync(src)]) {
      const out = await entries(withInjectedDockerfile(Readable.from([input]), "FROM x\nLABEL a=b\n"));
      expect(out).toEqual({
        Dockerfile: "FROM x\n",
        "app/main.sh": "echo hi",
        ".ancla.Dockerfile": "FROM x\nLABEL a=b\n",
        ".dockerignore": "*.log\n.ancla.Dockerfile\n",
      });
    }
  });
  test("without a .dockerignore one is added that hides both injected files", async () => {
    const out = await entries(withInjectedDockerfile(Readable.from([await makeTar({ Dockerfile: "FROM x\n" })]), "D"));
    expect(out[".dockerignore"]).toBe(".ancla.Dockerfile\n.dockerignore\n");
  });
  test("a broken input fails the output stream", async () => {
    const out = withInjectedDockerfile(Readable.from([gzipSync(Buffer.from("garbage".repeat(200)))]), "D");
    await rejectionOf(entries(out));
  });
});

describe("withInjectedDockerfile backpressure (issue 9: a tar bomb held the server at 1.8 GiB)", () => {
  test("reads the context only as fast as Docker reads the result: 40,000 empty entries never pile up", async () => {
    // tar-stream's pack pushes headers without backpressure; before the fix the whole input was read
    // (and re-encoded into memory) long before a slow reader had taken the first megabytes.
    // 40,000 entries (a 20 MB context, 2.5× the bound below) and a pause every 512 chunks: 100,000
    // entries with a pause every 128 took 94 s at load average 25, most of it timer waits
    const source = emptyEntriesTar(40_000);
    let fed = 0;
    const counted = Readable.from(
      (async function* () {
        for await (const chunk of source.stream) {
          fed += (chunk as Buffer).length;
          yield chunk as Buffer;
        }
      })(),
    );
    const out = withInjectedDockerfile(counted, "FROM x\n", { maxEntries: 200_000 });
    let read = 0;
    let lead = 0;
    let chunks = 0;
    for await (const chunk of out) {
      read += (chunk as Buffer).length;
      lead = Math.max(lead, fed - read);
      if (++chunks % 512 === 0) await Bun.sleep(1); // a slow reader, like a busy daemon
    }
    expect(read).toBeGreaterThan(40_000 * 512);
    expect(lead).toBeLessThan(8 * 1024 * 1024); // bounded by stream buffers, not by the 20 MB context
  });

  test("a context over the entry limit fails the stream with the setting's name (git checkouts are bounded too)", async () => {
    const out = withInjectedDockerfile(emptyEntriesTar(1000).stream, "D", { maxEntries: 500 });
    expect((await rejectionOf(entries(out))).message).toContain("more than 500 entries (--max-context-entries)");
  });
});

describe("withInjectedDockerfile when the build stops", () => {
  const tracked = (inner: Readable) => {
    const state = { closed: false };
    const stream = Readable.from(
      (async function* () {
        try {
          for await (const c of inner) yield c as Buffer;
        } finally {
          state.closed = true;
        }
      })(),
    );
    return { stream, state };
  };

  test("the context is released when Docker stops reading (plain and gzip), without an unhandled error", async () => {
    for (const gzip of [false, true]) {
      const { stream, state } = tracked(gzip ? emptyEntriesTar(50_000).stream.pipe(createGzip()) : emptyEntriesTar(50_000).stream);
      const out = withInjectedDockerfile(stream, "D");
      for await (const _ of out) break; // the reader goes away after the first chunk
      for (let i = 0; i < 100 && !state.closed; i++) await Bun.sleep(20);
      expect([gzip, state.closed]).toEqual([gzip, true]);
    }
  });

  test("the context is released when the rewrite fails (entry limit)", async () => {
    const { stream, state } = tracked(emptyEntriesTar(50_000).stream.pipe(createGzip()));
    expect((await rejectionOf(entries(withInjectedDockerfile(stream, "D", { maxEntries: 100 })))).message).toContain("more than 100 entries");
    for (let i = 0; i < 100 && !state.closed; i++) await Bun.sleep(20);
    expect(state.closed).toBe(true);
  });
});
