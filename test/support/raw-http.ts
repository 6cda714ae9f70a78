// Raw HTTP/1.1 on both ends for protocol tests: a backend that answers each request with a
// scripted byte sequence (Bun.listen), and a client that sends bytes and reports exactly what came
// back — status, headers, framing (length, chunked, close-delimited), body, and whether that
// framing completed (a cut body must never look complete). Also: a free port and an nginx
// reverse proxy (one worker, keep-alive upstream) started from a temp config.
import { connect } from "node:net";
import { mkdtempSync, mkdirSync, rmSync, writeFileSync, existsSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type RawSocket = { write: (s: string | Uint8Array) => number; end: () => void; terminate: () => void };
export type RawRequest = { method: string; path: string; head: string; body: Buffer };
/** Answers one request; return nothing (the script writes, ends or stays silent itself). */
export type Script = (s: RawSocket, req: RawRequest) => void;

/** Reads whole requests (Content-Length or chunked bodies) off each connection and runs the script for their path. */
export function scriptedBackend(scripts: Record<string, Script>, fallback?: Script) {
  return Bun.listen<{ buf: Buffer }>({
    hostname: "127.0.0.1",
    port: 0,
    socket: {
      open(s) {
        s.data = { buf: Buffer.alloc(0) };
      },
      data(s, d) {
        s.data.buf = Buffer.concat([s.data.buf, d]);
        for (;;) {
          const req = takeRequest(s.data);
          if (!req) return;
          const script = scripts[req.path.split("?")[0]!] ?? fallback ?? ((sock: RawSocket) => sock.write("HTTP/1.1 200 OK\r\nContent-Length: 7\r\n\r\ndefault"));
          script(s as unknown as RawSocket, req);
        }
      },
    },
  });
}

function takeRequest(st: { buf: Buffer }): RawRequest | null {
  const end = st.buf.indexOf("\r\n\r\n");
  if (end === -1) return null;
  const head = st.buf.subarray(0, end).toString("latin1");
  const [method = "", path = "/"] = head.split(" ");
  let rest: Buffer = st.buf.subarray(end + 4);
  let body: Buffer = Buffer.alloc(0);
  const length = /^content-length:\s*(\d+)/im.exec(head);
  if (/^transfer-encoding:.*chunked/im.test(head)) {
    const parsed = dechunk(rest);
    if (!parsed.complete) return null;
    body = parsed.body;
    rest = rest.subarray(parsed.used);
  } else if (length) {
    const n = Number(length[1]);
    if (rest.length < n) return null;
    body = rest.subarray(0, n);
    rest = rest.subarray(n);
  }
  st.buf = Buffer.from(rest);
  return { method, path, head, body };
}

/** Decodes a chunked body: the bytes, whether the last chunk and final CRLF arrived, and bytes used. */
export function dechunk(buf: Buffer): { body: Buffer; complete: boolean; used: number; valid: boolean } {
  const parts: Buffer[] = [];
  let i = 0;
  for (;;) {
    const eol = buf.indexOf("\r\n", i);
    if (eol === -1) return { body: Buffer.concat(parts), complete: false, used: i, valid: true };
    const sizeText = buf.subarray(i, eol).toString("latin1").split(";")[0]!.trim();
    if (!/^[0-9a-fA-F]+$/.test(sizeText)) return { body: Buffer.concat(parts), complete: false, used: i, valid: false };
    const size = parseInt(sizeText, 16);
    if (size === 0) {
      // trailers end with an empty line
      const end = buf.indexOf("\r\n\r\n", eol);
      const done = buf.subarray(eol, eol + 4).toString() === "\r\n\r\n" ? eol + 4 : end === -1 ? -1 : end + 4;
      return { body: Buffer.concat(parts), complete: done !== -1, used: done === -1 ? i : done, valid: true };
    }
    if (buf.length < eol + 2 + size + 2) return { body: Buffer.concat(parts), complete: false, used: i, valid: true };
    parts.push(buf.subarray(eol + 2, eol + 2 + size));
    i = eol + 2 + size + 2;
  }
}

export type RawResult = {
  status: number;
  interim: number[];
  headers: Record<string, string>;
  framing: "length" | "chunked" | "close" | "none";
  body: string;
  complete: boolean;
  /** the connection ended with an error (reset) */
  reset: boolean;
  error?: string;
};

/**
 * Sends `request` (with `Connection: close`) and reads until the server closes. With `expect100`,
 * the body is sent only after a 100 Continue arrives (or 1 s passed, like curl).
 */
export function rawRequest(port: number, request: { method?: string; path: string; headers?: Record<string, string>; body?: string; expect100?: boolean; raw?: string }, timeoutMs = 10_000): Promise<RawResult> {
  return new Promise((resolve) => {
    const method = request.method ?? "GET";
    const headers = { connection: "close", ...(request.headers ?? {}) } as Record<string, string>;
    if (request.body !== undefined) headers["content-length"] = String(Buffer.byteLength(request.body));
    if (request.expect100) headers.expect = "100-continue";
    const head = request.raw ?? `${method} ${request.path} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}`).join("\r\n")}\r\n\r\n`;
    const sock = connect(port, "127.0.0.1");
    let buf: Buffer = Buffer.alloc(0);
    let reset = false;
    let bodySent = request.body === undefined || !request.expect100;
    const sendBody = () => {
      if (!bodySent) (bodySent = true), sock.write(request.body!);
    };
    sock.on("connect", () => {
      sock.write(head);
      if (request.body !== undefined && !request.expect100) sock.write(request.body);
      if (request.expect100) setTimeout(sendBody, 1000);
    });
    sock.on("data", (d: Buffer) => {
      buf = Buffer.concat([buf, d]);
      if (!bodySent && /^HTTP\/1\.1 100/.test(buf.toString("latin1"))) sendBody();
    });
    sock.on("error", (e) => {
      reset = true;
      void e;
    });
    const timer = setTimeout(() => sock.destroy(), timeoutMs);
    sock.on("close", () => {
      clearTimeout(timer);
      resolve(parseResponse(buf, method === "HEAD", reset));
    });
  });
}

export function parseResponse(buf: Buffer, head: boolean, reset: boolean): RawResult {
  const interim: number[] = [];
  for (;;) {
    const end = buf.indexOf("\r\n\r\n");
    if (end === -1) return { status: 0, interim, headers: {}, framing: "none", body: buf.toString("latin1").slice(0, 200), complete: false, reset, error: "no response head" };
    const lines = buf.subarray(0, end).toString("latin1").split("\r\n");
    const status = Number(lines[0]!.split(" ")[1]);
    const headers: Record<string, string> = {};
    for (const l of lines.slice(1)) {
      const i = l.indexOf(":");
      const k = l.slice(0, i).trim().toLowerCase();
      headers[k] = headers[k] ? `${headers[k]}, ${l.slice(i + 1).trim()}` : l.slice(i + 1).trim();
    }
    const rest = buf.subarray(end + 4);
    if (status >= 100 && status < 200 && status !== 101) {
      interim.push(status);
      buf = rest;
      continue;
    }
    if (head || status === 204 || status === 304) return { status, interim, headers, framing: "none", body: rest.toString("latin1"), complete: rest.length === 0, reset };
    if (/chunked/i.test(headers["transfer-encoding"] ?? "")) {
      const d = dechunk(rest);
      return { status, interim, headers, framing: "chunked", body: d.body.toString("latin1"), complete: d.complete && d.valid, reset };
    }
    if (headers["content-length"] !== undefined) {
      const n = Number(headers["content-length"]);
      return { status, interim, headers, framing: "length", body: rest.subarray(0, n).toString("latin1"), complete: rest.length >= n, reset };
    }
    return { status, interim, headers, framing: "close", body: rest.toString("latin1"), complete: !reset, reset };
  }
}

/** A loopback port that was free a moment ago (for programs that cannot report the port they bound). */
export function freePort(): number {
  const l = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const port = l.port;
  l.stop(true);
  return port;
}

export const NGINX = "/usr/sbin/nginx";
export const hasNginx = () => existsSync(NGINX);

export type Nginx = { port: number; stop: () => Promise<void> };

/**
 * nginx as a reverse proxy to 127.0.0.1:`upstreamPort` on a free loopback port: one process
 * (master_process off = a single worker, and no privilege drop, so any user can run it), keep-alive
 * to the upstream, everything under a temp dir. `extra` goes into the server block.
 */
export async function startNginx(upstreamPort: number, opts: { extra?: string; tls?: { cert: string; key: string }; port?: number } = {}): Promise<Nginx> {
  const dir = mkdtempSync(join(tmpdir(), "ancla-nginx-"));
  for (const d of ["body", "proxy", "fastcgi", "uwsgi", "scgi"]) mkdirSync(join(dir, d));
  const port = opts.port ?? freePort();
  const listen = opts.tls ? `listen 127.0.0.1:${port} ssl; ssl_certificate ${opts.tls.cert}; ssl_certificate_key ${opts.tls.key};` : `listen 127.0.0.1:${port};`;
  writeFileSync(
    join(dir, "nginx.conf"),
    `worker_processes 1;
master_process off;
daemon off;
pid ${dir}/nginx.pid;
error_log ${dir}/error.log crit;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body; proxy_temp_path ${dir}/proxy; fastcgi_temp_path ${dir}/fastcgi; uwsgi_temp_path ${dir}/uwsgi; scgi_temp_path ${dir}/scgi;
  upstream app { server 127.0.0.1:${upstreamPort}; keepalive 64; }
  server {
    ${listen}
    location / {
      proxy_pass http://app;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_set_header Host $host;
      ${opts.extra ?? ""}
    }
  }
}
`,
  );
  const proc = Bun.spawn([NGINX, "-p", dir, "-c", join(dir, "nginx.conf")], { stdout: "ignore", stderr: "pipe" });
  for (let i = 0; i < 100; i++) {
    const up = await new Promise<boolean>((r) => {
      const c = connect(port, "127.0.0.1");
      c.on("connect", () => (c.destroy(), r(true)));
      c.on("error", () => r(false));
    });
    if (up) break;
    if (proc.exitCode !== null) throw new Error(`nginx exited: ${await new Response(proc.stderr).text()}`);
    await Bun.sleep(50);
  }
  return {
    port,
    async stop() {
      proc.kill("SIGTERM");
      await proc.exited;
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
