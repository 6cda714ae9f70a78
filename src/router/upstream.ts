// A small HTTP/1.1 client for bodyless requests to 127.0.0.1 backends, with a keep-alive pool per
// port. The router uses it instead of fetch() for GET/HEAD/DELETE/OPTIONS without a body: it is
// about 1.5× cheaper per request. Responses may be fixed-length, chunked or close-delimited;
// large and streamed bodies flow with TCP backpressure (the socket pauses while the client lags).
import type { Socket } from "bun";

export type UpstreamResponse = { status: number; statusText: string; headers: Headers; body: Uint8Array | ReadableStream<Uint8Array> | null };

/** The backend was not reached, or a pooled connection was found closed before it answered. */
export class UpstreamConnectError extends Error {}

const CRLF2 = Buffer.from("\r\n\r\n");
const MAX_HEAD = 64 * 1024;
const IDLE_PER_PORT = 64;

type Waiter = {
  resolve: (r: UpstreamResponse) => void;
  reject: (e: Error) => void;
  head: boolean; // HEAD request: no body whatever the headers say
  bufferLimit: number;
  onDone: () => void;
};

type Conn = {
  port: number;
  socket: Socket<Conn>;
  buf: Buffer;
  waiter: Waiter | null;
  /** bytes of the response seen so far (0: a close now means the pooled connection was stale) */
  seen: number;
  reusable: boolean;
  closed: boolean;
  paused: boolean;
  unsent: Buffer | null;
  body: BodyState | null;
};

type BodyState = {
  mode: "length" | "chunked" | "close";
  left: number; // length mode: bytes left; chunked: bytes left in the current chunk
  chunkState: "size" | "data" | "data-crlf" | "trailers";
  parts: Buffer[]; // buffered mode
  size: number;
  stream: ReadableStreamDefaultController<Uint8Array> | null;
  finish: (() => void) | null;
};

// a backend that closes every connection is re-probed for keep-alive this often
const REPROBE_MS = 10_000;

export class UpstreamPool {
  private idle = new Map<number, Conn[]>();
  private closesConnections = new Map<number, number>();

  /**
   * Whether this client is the better path to the port: it is for keep-alive backends; for one
   * that closes every connection (e.g. busybox httpd) fetch() connects more cheaply.
   */
  prefers(port: number): boolean {
    const since = this.closesConnections.get(port);
    return since === undefined || Date.now() - since > REPROBE_MS;
  }

  /**
   * Send a bodyless request. Resolves at the response head for streamed bodies (`onStreamDone`
   * runs when such a body ends, fails or is cancelled) and after the whole body otherwise.
   */
  async request(port: number, head: string, isHead: boolean, bufferLimit: number, onStreamDone: () => void): Promise<UpstreamResponse> {
    const pooled = this.idle.get(port)?.pop();
    if (pooled) {
      try {
        return await this.send(pooled, head, isHead, bufferLimit, onStreamDone);
      } catch (e) {
        // a keep-alive connection the backend had already closed: the request never arrived
        if (!(e instanceof UpstreamConnectError)) throw e;
      }
    }
    return this.send(await this.connect(port), head, isHead, bufferLimit, onStreamDone);
  }

  private send(conn: Conn, head: string, isHead: boolean, bufferLimit: number, onDone: () => void): Promise<UpstreamResponse> {
    return new Promise<UpstreamResponse>((resolve, reject) => {
      conn.waiter = { resolve, reject, head: isHead, bufferLimit, onDone };
      conn.seen = 0;
      conn.buf = Buffer.alloc(0);
      if (conn.closed) return this.onClose(conn, true);
      this.write(conn, Buffer.from(head, "latin1"));
    });
  }

  /** Write all of `bytes`, the rest when the socket drains (large heads, e.g. big cookies). */
  private write(conn: Conn, bytes: Buffer): void {
    const n = conn.socket.write(bytes);
    conn.unsent = n >= 0 && n < bytes.length ? bytes.subarray(n) : null;
  }

  /** Close every pooled connection (router stop). */
  close(): void {
    for (const list of this.idle.values()) for (const c of list) c.socket.end();
    this.idle.clear();
  }

  private async connect(port: number): Promise<Conn> {
    const conn = { port, buf: Buffer.alloc(0), waiter: null, seen: 0, reusable: true, closed: false, paused: false, unsent: null, body: null } as unknown as Conn;
    try {
      conn.socket = await Bun.connect<Conn>({
        hostname: "127.0.0.1",
        port,
        data: conn,
        socket: {
          data: (s, d) => this.onData(s.data, Buffer.from(d)),
          close: (s) => this.onClose(s.data),
          error: (s) => this.onClose(s.data),
          drain: (sock) => {
            const c = sock.data;
            if (c.unsent) this.write(c, c.unsent);
          },
        },
      });
    } catch (e) {
      throw new UpstreamConnectError((e as Error).message || "connection refused");
    }
    return conn;
  }

  private release(conn: Conn): void {
    conn.waiter = null;
    conn.body = null;
    if (conn.reusable && !conn.closed) this.closesConnections.delete(conn.port);
    else this.closesConnections.set(conn.port, Date.now());
    if (!conn.reusable || conn.closed) {
      conn.socket.end();
      return;
    }
    const list = this.idle.get(conn.port) ?? [];
    if (list.length >= IDLE_PER_PORT) conn.socket.end();
    else {
      list.push(conn);
      this.idle.set(conn.port, list);
    }
  }

  private onClose(conn: Conn, again = false): void {
    if (conn.closed && !again) return;
    conn.closed = true;
    const list = this.idle.get(conn.port);
    if (list) this.idle.set(conn.port, list.filter((c) => c !== conn));
    const w = conn.waiter;
    if (!w) return;
    if (conn.body) {
      if (conn.body.mode === "close") this.finishBody(conn);
      else this.failBody(conn, new Error("the application closed the connection mid-response"));
      return;
    }
    conn.waiter = null;
    w.reject(conn.seen === 0 ? new UpstreamConnectError("connection closed before any response") : new Error("the application closed the connection mid-response"));
  }

  private onData(conn: Conn, data: Buffer): void {
    conn.seen += data.length;
    if (!conn.waiter) {
      // bytes nobody asked for: the connection is out of step, drop it
      conn.reusable = false;
      conn.socket.end();
      return;
    }
    if (conn.body) return this.onBody(conn, data);
    conn.buf = conn.buf.length ? Buffer.concat([conn.buf, data]) : data;
    for (;;) {
      const end = conn.buf.indexOf(CRLF2);
      if (end === -1) {
        if (conn.buf.length > MAX_HEAD) this.failHead(conn, new Error("response head too large"));
        return;
      }
      const head = conn.buf.subarray(0, end).toString("latin1");
      const rest = conn.buf.subarray(end + 4);
      conn.buf = Buffer.alloc(0);
      const parsed = parseHead(head);
      if (!parsed) return this.failHead(conn, new Error("malformed response from the application"));
      if (parsed.status >= 100 && parsed.status < 200) {
        conn.buf = rest; // 100 Continue / 103 Early Hints: the real head follows
        continue;
      }
      this.startBody(conn, parsed, rest);
      return;
    }
  }

  private failHead(conn: Conn, e: Error): void {
    const w = conn.waiter!;
    conn.waiter = null;
    conn.reusable = false;
    conn.socket.end();
    w.reject(e);
  }

  private startBody(conn: Conn, p: ParsedHead, rest: Buffer): void {
    const w = conn.waiter!;
    const te = (p.headers.get("transfer-encoding") ?? "").toLowerCase();
    const cl = p.headers.get("content-length");
    if ((p.headers.get("connection") ?? "").toLowerCase().includes("close") || p.version === "HTTP/1.0") conn.reusable = false;
    for (const h of ["connection", "keep-alive", "transfer-encoding", "proxy-connection", "trailer", "upgrade"]) p.headers.delete(h);
    const noBody = w.head || p.status === 204 || p.status === 304;
    let mode: BodyState["mode"];
    let left = 0;
    if (noBody) mode = "length";
    else if (te.includes("chunked")) mode = "chunked";
    else if (cl !== null && /^\d+$/.test(cl.trim())) (mode = "length"), (left = Number(cl));
    else (mode = "close"), (conn.reusable = false);
    if (mode !== "length" || (noBody && !w.head)) p.headers.delete("content-length");
    const body: BodyState = { mode, left, chunkState: "size", parts: [], size: 0, stream: null, finish: null };
    conn.body = body;
    const respond = (b: UpstreamResponse["body"]) => w.resolve({ status: p.status, statusText: p.statusText, headers: p.headers, body: b });
    if (noBody || (mode === "length" && left === 0)) {
      conn.body = null;
      respond(null);
      this.release(conn);
      return;
    }
    if (mode === "length" && left <= w.bufferLimit) {
      body.finish = () => respond(body.parts.length === 1 ? body.parts[0]! : Buffer.concat(body.parts));
    } else {
      const stream = new ReadableStream<Uint8Array>({
        start: (c) => {
          body.stream = c;
        },
        pull: () => {
          if (conn.paused) (conn.paused = false), conn.socket.resume();
        },
        cancel: () => {
          conn.reusable = false;
          conn.socket.end();
          if (conn.waiter) {
            conn.waiter = null;
            w.onDone();
          }
        },
      });
      respond(stream);
    }
    if (rest.length) this.onBody(conn, rest);
  }

  private emit(conn: Conn, chunk: Buffer): void {
    const b = conn.body!;
    if (!chunk.length) return;
    if (b.stream) {
      b.stream.enqueue(new Uint8Array(chunk)); // copy: the socket may reuse its buffer
      if ((b.stream.desiredSize ?? 1) <= 0 && !conn.paused) (conn.paused = true), conn.socket.pause();
    } else {
      b.parts.push(Buffer.from(chunk)); // copy: the socket may reuse its buffer
      b.size += chunk.length;
    }
  }

  private onBody(conn: Conn, data: Buffer): void {
    const b = conn.body!;
    if (b.mode === "close") return this.emit(conn, data);
    if (b.mode === "length") {
      const take = data.subarray(0, b.left);
      b.left -= take.length;
      this.emit(conn, take);
      if (b.left === 0) {
        if (data.length > take.length) conn.reusable = false; // extra bytes: out of step
        this.finishBody(conn);
      }
      return;
    }
    this.onChunked(conn, data);
  }

  private onChunked(conn: Conn, data: Buffer): void {
    const b = conn.body!;
    let buf = conn.buf.length ? Buffer.concat([conn.buf, data]) : data;
    conn.buf = Buffer.alloc(0);
    while (buf.length) {
      if (b.chunkState === "data") {
        const take = buf.subarray(0, b.left);
        b.left -= take.length;
        this.emit(conn, take);
        buf = buf.subarray(take.length);
        if (b.left === 0) b.chunkState = "data-crlf";
        continue;
      }
      const nl = buf.indexOf("\r\n");
      if (nl === -1) {
        if (buf.length > 8192) return this.failBody(conn, new Error("malformed chunked response"));
        conn.buf = Buffer.from(buf);
        return;
      }
      const line = buf.subarray(0, nl).toString("latin1");
      buf = buf.subarray(nl + 2);
      if (b.chunkState === "data-crlf") {
        if (line !== "") return this.failBody(conn, new Error("malformed chunked response"));
        b.chunkState = "size";
      } else if (b.chunkState === "size") {
        const size = parseInt(line.split(";")[0]!.trim(), 16);
        if (!Number.isFinite(size) || size < 0) return this.failBody(conn, new Error("malformed chunked response"));
        if (size === 0) b.chunkState = "trailers";
        else (b.left = size), (b.chunkState = "data");
      } else if (line === "") {
        // end of trailers: the response is complete
        if (buf.length) conn.reusable = false;
        return this.finishBody(conn);
      }
    }
  }

  private finishBody(conn: Conn): void {
    const b = conn.body!;
    const w = conn.waiter;
    if (b.stream) {
      try {
        b.stream.close();
      } catch {
        // the client went away
      }
    } else b.finish?.();
    if (w && b.stream) w.onDone();
    if (conn.paused) (conn.paused = false), conn.socket.resume();
    this.release(conn);
  }

  private failBody(conn: Conn, e: Error): void {
    const b = conn.body!;
    const w = conn.waiter;
    conn.reusable = false;
    conn.socket.end();
    conn.waiter = null;
    conn.body = null;
    if (b.stream) {
      try {
        b.stream.error(e);
      } catch {
        // already closed
      }
      w?.onDone();
    } else w?.reject(e);
  }
}

type ParsedHead = { version: string; status: number; statusText: string; headers: Headers };

function parseHead(head: string): ParsedHead | null {
  const lines = head.split("\r\n");
  const m = /^(HTTP\/1\.[01]) (\d{3})(?: (.*))?$/.exec(lines[0] ?? "");
  if (!m) return null;
  const headers = new Headers();
  for (let i = 1; i < lines.length; i++) {
    const line = lines[i]!;
    const colon = line.indexOf(":");
    if (colon <= 0) return null;
    try {
      headers.append(line.slice(0, colon).trim(), line.slice(colon + 1).trim());
    } catch {
      return null; // invalid header name or value
    }
  }
  return { version: m[1]!, status: Number(m[2]), statusText: m[3] ?? "", headers };
}

/** The request head for a bodyless request; header values with CR/LF never reach the wire. */
export function requestHead(method: string, path: string, headers: Headers): string {
  let head = `${method} ${path} HTTP/1.1\r\n`;
  headers.forEach((value, name) => {
    if (name === "content-length" || name === "transfer-encoding") return;
    head += `${name}: ${value.replace(/[\r\n]/g, " ")}\r\n`;
  });
  return head + "connection: keep-alive\r\n\r\n";
}
