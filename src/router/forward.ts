// One HTTP request through Bun's fetch to a replica: bounded waits (504), a retry on another
// replica only when the request certainly never reached an app, streamed bodies both ways with
// in-flight counting for drains, and truncation (never a clean end) when a backend fails mid-body.
import { downstreamHeaders, requestIdOf, upstreamHeaders } from "./headers";
import { pathAndQuery } from "../lib/url-path";
import { badGatewayPage, noReplicaPage, timeoutPage } from "./pages";
import type { Replica, RouteTable } from "./table";
import type { Warn } from "./warn";

// Safe to resend (RFC 9110 §9.2.2) — and resent only when bodyless and refused at connect.
const IDEMPOTENT = new Set(["GET", "HEAD", "OPTIONS", "PUT", "DELETE", "TRACE"]);
// Known-length bodies up to this size are read whole before answering: one write to the client
// and a replica's in-flight count ends exactly when its answer is in hand.
const BUFFER_LIMIT = 256 * 1024;
// Errors raised before a connection existed: nothing was sent, so no app saw the request.
const NOT_CONNECTED = new Set(["ECONNREFUSED", "ConnectionRefused", "FailedToOpenSocket"]);

export type ForwardOptions = { table: RouteTable; warn: Warn };
/** One request's routing facts; `release` runs once when the response is over (per-client counts). */
export type ForwardContext = { serviceId: string; host: string; clientIp?: string; proto: "http" | "https"; release: () => void };

// Deadlines are checked by one sweep instead of a timer per request and per body chunk
// (setTimeout/clearTimeout pairs were a measurable share of a small request); a timeout fires up
// to SWEEP_MS late, which is nothing next to the seconds it measures.
const SWEEP_MS = 250;
const armed = new Set<Deadline>();
let sweeper: ReturnType<typeof setInterval> | undefined;
function sweep(): void {
  const now = Date.now();
  for (const d of armed) if (d.expiresAt <= now) d.expire();
  if (!armed.size) {
    clearInterval(sweeper);
    sweeper = undefined;
  }
}

/**
 * Aborts the upstream fetch when the client goes away or the backend is silent for `ms` (waiting
 * for headers, then for each body read — never while the client is the slow side).
 */
class Deadline {
  readonly ctrl = new AbortController();
  timedOut = false;
  expiresAt = 0;
  constructor(
    client: AbortSignal,
    private readonly ms: number,
  ) {
    if (client.aborted) this.ctrl.abort();
    else client.addEventListener("abort", () => this.ctrl.abort(), { once: true });
  }
  arm(): void {
    this.expiresAt = Date.now() + this.ms;
    armed.add(this);
    sweeper ??= setInterval(sweep, Math.min(SWEEP_MS, this.ms));
  }
  pause(): void {
    armed.delete(this);
  }
  expire(): void {
    armed.delete(this);
    this.timedOut = true;
    this.ctrl.abort();
  }
}

export async function forwardHttp(o: ForwardOptions, req: Request, c: ForwardContext): Promise<Response> {
  let streaming = false;
  try {
    const res = await forwardOnce(o, req, c);
    streaming = STREAMED.has(res);
    return res;
  } finally {
    if (!streaming) c.release();
  }
}

// marks a response whose body is a tracked stream: its end (not the return) releases the request
const STREAMED = new WeakSet<Response>();

async function forwardOnce(o: ForwardOptions, req: Request, c: ForwardContext): Promise<Response> {
  const { table } = o;
  const { serviceId } = c;
  const requestId = requestIdOf(req);
  const headers = upstreamHeaders(req, c.host, c.clientIp, requestId, c.proto);
  const path = pathAndQuery(req.url);
  const retryable = IDEMPOTENT.has(req.method) && req.body === null;
  const timeoutMs = table.upstreamTimeoutMs(serviceId);
  const tried = new Set<string>();
  for (;;) {
    const r = table.pick(serviceId, tried);
    if (!r) return tried.size ? badGatewayPage(requestId) : noReplicaPage(requestId);
    tried.add(r.id);
    table.begin(r);
    const deadline = new Deadline(req.signal, timeoutMs);
    deadline.arm();
    let res: Response;
    try {
      res = await fetch(`http://127.0.0.1:${r.port}${path}`, {
        method: req.method,
        headers,
        body: req.body && uploadBody(req.body, deadline),
        redirect: "manual",
        decompress: false,
        signal: deadline.ctrl.signal,
        // Bun: stream the request body instead of buffering it
        duplex: "half",
      } as RequestInit);
    } catch (e) {
      deadline.pause();
      table.end(r);
      const code = errorCode(e);
      if (deadline.timedOut) {
        o.warn("router backend timed out", { service: serviceId, port: r.port, timeout_s: timeoutMs / 1000, request_id: requestId });
        return timeoutPage(requestId);
      }
      if (req.signal.aborted) return badGatewayPage(requestId, "The client went away."); // nobody reads this
      if (NOT_CONNECTED.has(code)) {
        table.markDown(r);
        if (retryable) continue;
      }
      o.warn("router backend failed", { service: serviceId, port: r.port, error: code, request_id: requestId });
      return badGatewayPage(requestId);
    }
    return respond(o, req, res, r, deadline, c, requestId);
  }
}

async function respond(o: ForwardOptions, req: Request, res: Response, r: Replica, deadline: Deadline, c: ForwardContext, requestId: string): Promise<Response> {
  const { serviceId } = c;
  if (res.status < 200 || res.status > 599) {
    // not representable as an HTTP/1.1 final answer to our client (1xx is handled by fetch itself)
    deadline.pause();
    o.table.end(r);
    void res.body?.cancel().catch(() => {});
    o.warn("router backend sent an invalid status", { service: serviceId, port: r.port, status: res.status, request_id: requestId });
    return badGatewayPage(requestId);
  }
  const init = { status: res.status, statusText: res.statusText, headers: downstreamHeaders(res) };
  // no body by definition (HEAD, 204, 304), or none sent: the replica is done
  if (!res.body || req.method === "HEAD" || res.status === 204 || res.status === 304) {
    deadline.pause();
    o.table.end(r);
    if (res.body) void res.body.cancel().catch(() => {});
    return new Response(null, init);
  }
  const length = Number(res.headers.get("content-length") ?? NaN);
  const cutShort = (e: unknown): Response => {
    // nothing reached the client yet, so an honest status is still possible
    if (deadline.timedOut) return timeoutPage(requestId);
    o.warn("router backend response cut short", { service: serviceId, port: r.port, error: errorCode(e), request_id: requestId });
    return badGatewayPage(requestId, "The application closed the connection mid-response.");
  };
  if (Number.isFinite(length) && length <= BUFFER_LIMIT) {
    try {
      return bufferedResponse(await res.arrayBuffer(), init);
    } catch (e) {
      return cutShort(e);
    } finally {
      deadline.pause();
      o.table.end(r);
    }
  }
  // the first chunk is awaited here: a body that fails before any byte (a bad chunk size, a
  // reset) is still an honest 502/504 instead of a connection closed without an answer
  const reader = res.body.getReader();
  let first: { done: boolean; value?: Uint8Array };
  try {
    first = await reader.read();
  } catch (e) {
    deadline.pause();
    o.table.end(r);
    return cutShort(e);
  }
  deadline.pause();
  if (first.done || !first.value) {
    o.table.end(r);
    return new Response(null, init);
  }
  const body = trackedBody(reader, first.value, deadline, (e) => {
    o.table.end(r);
    c.release();
    if (e !== undefined && !req.signal.aborted) {
      const fields = { service: serviceId, port: r.port, error: deadline.timedOut ? "timeout" : errorCode(e), request_id: requestId };
      o.warn("router backend response cut short", fields);
    }
  });
  const streamed = new Response(body, init);
  STREAMED.add(streamed);
  return streamed;
}

/**
 * A whole body in one write. Bun labels an ArrayBuffer body application/octet-stream when no
 * Content-Type is given — which would make browsers download what they used to sniff and render —
 * so an unlabelled body goes out as a one-chunk stream with its length instead.
 */
function bufferedResponse(buf: ArrayBuffer, init: { status: number; statusText: string; headers: Headers }): Response {
  if (init.headers.has("content-type")) return new Response(buf, init);
  init.headers.set("content-length", String(buf.byteLength));
  const bytes = new Uint8Array(buf);
  return new Response(
    new ReadableStream<Uint8Array>({
      start(c) {
        if (bytes.length) c.enqueue(bytes);
        c.close();
      },
    }),
    init,
  );
}

/**
 * The client's body on its way up. A slow client must not use up the backend's time, and a backend
 * taking the body is alive: the clock stops while the client sends and restarts after each chunk
 * the backend accepts (and after the last, for the wait on the answer).
 */
function uploadBody(body: ReadableStream<Uint8Array>, deadline: Deadline): ReadableStream<Uint8Array> {
  const reader = body.getReader();
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      deadline.pause();
      try {
        const { done, value } = await reader.read();
        if (done) ctrl.close();
        else ctrl.enqueue(value);
      } catch (e) {
        ctrl.error(e);
      } finally {
        deadline.arm();
      }
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}

/** Wraps a streamed body (its first chunk already read): `done` runs once when it ends, fails or the client goes away. */
function trackedBody(reader: ReadableStreamDefaultReader<Uint8Array>, first: Uint8Array, deadline: Deadline, done: (error?: unknown) => void): ReadableStream<Uint8Array> {
  let pending: Uint8Array | undefined = first;
  let finished = false;
  const finish = (error?: unknown) => {
    if (finished) return;
    finished = true;
    deadline.pause();
    done(error);
  };
  return new ReadableStream<Uint8Array>({
    async pull(ctrl) {
      if (pending) {
        ctrl.enqueue(pending);
        pending = undefined;
        return;
      }
      deadline.arm();
      try {
        const { done: end, value } = await reader.read();
        deadline.pause();
        if (end) {
          finish();
          ctrl.close();
        } else ctrl.enqueue(value);
      } catch (e) {
        finish(e ?? new Error("upstream failed"));
        // erroring the stream makes Bun.serve cut the connection without the final chunk, so the
        // client sees a truncated response. The reason is left undefined on purpose: Bun prints
        // any other reason to stderr for every such response; we log it ourselves, rate limited.
        ctrl.error(undefined);
      }
    },
    cancel(reason) {
      finish();
      return reader.cancel(reason);
    },
  });
}

function errorCode(e: unknown): string {
  const err = e as { code?: unknown; name?: unknown; message?: unknown } | null;
  if (err && typeof err.code === "string" && err.code) return err.code;
  if (err && typeof err.name === "string" && err.name !== "Error" && err.name !== "TypeError") return err.name;
  return String(err?.message ?? e).slice(0, 200);
}
