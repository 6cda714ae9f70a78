// Upload limits against a live `ancla serve` (issue 9): a million-entry tar bomb is refused with
// 413 while the server's memory stays flat (RSS read from /proc), and every body over a limit —
// chunked ones included, sent over a raw loopback socket — gets a 413 with the JSON error body.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { connect } from "node:net";
import { startLiveServer, type LiveServer } from "../support/server";
import { emptyEntriesTarGz } from "../support/tar-bomb";
import { contextTar } from "../support/docker";
import { gzipSync } from "node:zlib";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(300_000);

const SERVICE = "/api/v1/orgs/o/projects/w/envs/production/services";
const BUILD = `${SERVICE}/a/images/build`;

type RawResponse = { status: number; headers: Record<string, string>; body: string };

/**
 * POST with `Transfer-Encoding: chunked` over a plain socket: chunks go out with backpressure and
 * sending stops as soon as the server answers (it may refuse long before the body ends).
 */
function chunkedPost(server: LiveServer, path: string, headers: Record<string, string>, body: AsyncIterable<Uint8Array> | Iterable<Uint8Array>): Promise<RawResponse> {
  const { hostname, port } = new URL(server.url);
  return new Promise((resolve, reject) => {
    const sock = connect(Number(port), hostname);
    let raw = Buffer.alloc(0);
    let answered = false;
    const parse = (): RawResponse | null => {
      const end = raw.indexOf("\r\n\r\n");
      if (end < 0) return null;
      const [statusLine, ...lines] = raw.subarray(0, end).toString().split("\r\n");
      const h = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
      const length = Number(h["content-length"] ?? 0);
      if (raw.length < end + 4 + length) return null;
      return { status: Number(statusLine!.split(" ")[1]), headers: h, body: raw.subarray(end + 4, end + 4 + length).toString() };
    };
    sock.on("data", (d: Buffer) => {
      raw = Buffer.concat([raw, d]);
      const r = parse();
      if (r && !answered) {
        answered = true;
        sock.destroy();
        resolve(r);
      }
    });
    sock.on("error", (e) => answered || reject(e));
    sock.on("close", () => answered || reject(new Error(`connection closed without a complete response: ${JSON.stringify(raw.toString().slice(0, 300))}`)));
    const head = Object.entries({ host: hostname, "transfer-encoding": "chunked", ...headers }).map(([k, v]) => `${k}: ${v}\r\n`);
    sock.write(`POST ${path} HTTP/1.1\r\n${head.join("")}\r\n`);
    (async () => {
      for await (const chunk of body) {
        if (answered || sock.destroyed) return;
        const ok = sock.write(Buffer.concat([Buffer.from(chunk.byteLength.toString(16) + "\r\n"), chunk, Buffer.from("\r\n")]));
        if (!ok) await new Promise((r) => (sock.once("drain", r), sock.once("close", r)));
      }
      if (!sock.destroyed) sock.write("0\r\n\r\n");
    })().catch(() => {});
  });
}

async function* repeat(chunk: Uint8Array, total: number) {
  for (let sent = 0; sent < total; sent += chunk.byteLength) yield chunk;
}

const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1]) / 1024;

async function withService(s: LiveServer) {
  const h = { "x-api-key": s.adminKey, "content-type": "application/json" };
  for (const [path, body] of [["/api/v1/organizations", { name: "O", slug: "o" }], ["/api/v1/orgs/o/projects", { name: "W", slug: "w" }], [SERVICE, { name: "a" }]] as const) {
    const r = await fetch(s.url + path, { method: "POST", headers: h, body: JSON.stringify(body) });
    expect(r.status).toBe(201);
  }
}

describe("a million-entry tar bomb (default limits)", () => {
  let s: LiveServer;
  beforeAll(async () => {
    s = await startLiveServer();
    await withService(s);
  });
  afterAll(async () => void (await s?.stop()));

  test("is refused with 413 and the JSON body while server memory stays flat (< 100 MiB growth)", async () => {
    const headers = { "x-api-key": s.adminKey, "content-type": "application/gzip" };
    // load the upload path's modules first (tar reader, gunzip) with a small refused upload: a
    // /etc/passwd entry (absolute path) → 422; the baseline then holds no bomb's leftovers
    const warm = await chunkedPost(s, BUILD, headers, [gzipSync(await contextTar({ "/etc/passwd": "x" }))]);
    expect(warm.status).toBe(422);
    const pid = s.proc.pid;
    const baseline = rssMiB(pid);
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, rssMiB(pid))), 20);
    const bomb = emptyEntriesTarGz(1_000_000);
    let r: RawResponse;
    try {
      r = await chunkedPost(s, BUILD, headers, bomb.stream);
      await Bun.sleep(500); // anything still working after the answer shows up here
      peak = Math.max(peak, rssMiB(pid));
    } finally {
      clearInterval(sampler);
    }
    expect(r.status).toBe(413);
    expect(r.headers["content-type"]).toContain("application/json");
    expect(JSON.parse(r.body)).toEqual({ status: 413, message: "The build context has more than 100000 entries (--max-context-entries)." });
    if (process.env.ANCLA_TEST_VERBOSE) console.log(`server RSS: baseline ${baseline.toFixed(0)} MiB, peak ${peak.toFixed(0)} MiB`);
    expect(peak - baseline).toBeLessThan(100);
    expect(bomb.produced()).toBeLessThan(1_000_000); // refused before the upload ended
    // the server is still up (a refused gzip upload once ended it with an unhandled "Premature close")
    expect(s.proc.exitCode).toBeNull();
    expect((await fetch(`${s.url}/api/v1/integrations/health`)).status).toBe(200);
    // nothing was recorded and the build slot stays free
    const images = await fetch(`${s.url}${SERVICE}/a/images`, { headers: { "x-api-key": s.adminKey } }).then((x) => x.json());
    expect(images.pagination.total).toBe(0);
  });
});

describe("bodies over a limit always get the JSON 413 (chunked, no Content-Length)", () => {
  let s: LiveServer;
  beforeAll(async () => {
    s = await startLiveServer({ args: ["--max-context-size", "100000"] });
    await withService(s);
  });
  afterAll(async () => void (await s?.stop()));

  test("a chunked build context over --max-context-size", async () => {
    // zeros read as an empty archive and trailing padding, so only the byte count can refuse them
    const r = await chunkedPost(s, BUILD, { "x-api-key": s.adminKey, "content-type": "application/x-tar" }, repeat(new Uint8Array(64 * 1024), 8_000_000));
    expect(r.status).toBe(413);
    expect(JSON.parse(r.body)).toEqual({ status: 413, message: "The build context is larger than the limit of 100000 bytes (--max-context-size)." });
  });

  test("a chunked JSON body over 1 MiB, and a chunked text body to a JSON route", async () => {
    const json = await chunkedPost(s, "/api/v1/organizations", { "x-api-key": s.adminKey, "content-type": "application/json" }, repeat(new TextEncoder().encode(" ".repeat(64 * 1024)), 4_000_000));
    expect(json.status).toBe(413);
    expect(JSON.parse(json.body)).toEqual({ status: 413, message: "JSON body larger than 1 MiB." });
    const text = await chunkedPost(s, "/api/v1/organizations", { "x-api-key": s.adminKey, "content-type": "text/plain" }, repeat(new Uint8Array(64 * 1024).fill(65), 4_000_000));
    expect(text.status).toBe(413);
    expect(JSON.parse(text.body)).toEqual({ status: 413, message: "Request body larger than 1 MiB." });
  });
});
