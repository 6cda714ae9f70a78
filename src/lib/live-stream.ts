// A live line stream for one client (log follows): lines wait in a bounded ring while the client
// reads slower than they come; when the ring is full the oldest go and the client is told how many
// it missed (a `gap`), so a stalled reader costs a fixed amount of memory, never an unbounded
// queue. Two wire formats: Server-Sent Events (`data:` per line, `id:` when the line has one,
// `event: gap` / `event: end`, a comment every 15 s so proxies keep the connection) and plain text
// (one line per line). The stream ends when `end()` is called (with an `end` event naming why),
// when `signal` aborts (server shutdown: `end` event "server stopping"), or when the client goes
// away (`onClose` runs once in every case).
import { waitFor } from "./wake";

export type LiveFormat = "sse" | "text";
export type LiveStream = {
  body: ReadableStream<Uint8Array>;
  /** One line (no newline inside: split first); `id` lets an EventSource resume (Last-Event-ID). */
  send: (line: string, id?: number) => void;
  /** Ends the stream after what is queued; `data` goes in the SSE `end` event (JSON). */
  end: (data?: Record<string, unknown>) => void;
  /** Resolves once the ring is at most half full (or the stream closed): for senders that can wait (stored lines). */
  ready: () => Promise<void>;
  readonly closed: boolean;
};

export const SSE_HEADERS = {
  "content-type": "text/event-stream; charset=utf-8",
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  // nginx in front: do not buffer the stream
  "x-accel-buffering": "no",
} as const;

/** Lines a client may fall behind before the oldest are dropped. */
export const DEFAULT_RING = 2000;
const KEEPALIVE_MS = 15_000;

/** Whether the request asks for Server-Sent Events (an EventSource sends this Accept). */
export const wantsEventStream = (req: Request): boolean => (req.headers.get("accept") ?? "").includes("text/event-stream");

/**
 * `signal`: the server is stopping (the client gets an `end` event); `gone`: the client went away
 * (the request's signal: nothing more is sent).
 */
export function liveStream(opts: { format: LiveFormat; signal?: AbortSignal; gone?: AbortSignal; ring?: number; onClose?: () => void }): LiveStream {
  const size = Math.max(1, opts.ring ?? DEFAULT_RING);
  const sse = opts.format === "sse";
  const ring: string[] = [];
  let head = 0; // index of the oldest queued entry in `ring` (a ring buffer over a growing array, compacted on drain)
  let dropped = 0;
  let ending: string | null = null; // the last chunk once end() ran
  let closed = false;
  let wake: (() => void) | null = null;
  let roomWaiters: (() => void)[] = [];
  let quiet = true; // nothing sent since the last keep-alive
  const encoder = new TextEncoder();

  const notify = () => {
    const w = wake;
    wake = null;
    w?.();
  };
  const queued = () => ring.length - head;
  const push = (chunk: string) => {
    if (closed || ending !== null) return;
    if (queued() >= size) {
      head++;
      dropped++;
    }
    ring.push(chunk);
    quiet = false;
    notify();
  };
  const gapText = (n: number) => (sse ? `event: gap\ndata: ${JSON.stringify({ dropped: n })}\n\n` : `(${n} lines skipped: this client read slower than they came)\n`);
  const freed = () => {
    const ws = roomWaiters;
    roomWaiters = [];
    for (const w of ws) w();
  };
  const drain = (): string => {
    let out = dropped ? gapText(dropped) : "";
    dropped = 0;
    for (let i = head; i < ring.length; i++) out += ring[i];
    ring.length = 0;
    head = 0;
    freed();
    return out;
  };

  let timer: ReturnType<typeof setInterval> | undefined;
  const close = () => {
    if (closed) return;
    closed = true;
    clearInterval(timer);
    freed();
    opts.signal?.removeEventListener("abort", onAbort);
    opts.gone?.removeEventListener("abort", close);
    notify();
    opts.onClose?.();
  };
  const end = (data: Record<string, unknown> = {}) => {
    if (closed || ending !== null) return;
    ending = sse ? `event: end\ndata: ${JSON.stringify(data)}\n\n` : "";
    notify();
  };
  const onAbort = () => end({ reason: "server stopping" });

  const body = new ReadableStream<Uint8Array>(
    {
      start() {
        if (sse) {
          // a first comment: headers and the stream are visibly open before the first line
          ring.push(": stream open\n\n");
          timer = setInterval(() => {
            if (quiet) push(": keep-alive\n\n");
            quiet = true;
          }, KEEPALIVE_MS);
        }
        if (opts.signal?.aborted) onAbort();
        else opts.signal?.addEventListener("abort", onAbort);
        if (opts.gone?.aborted) close();
        else opts.gone?.addEventListener("abort", close);
      },
      // called only when the client has taken everything before: what piles up meanwhile waits in the ring
      async pull(controller) {
        while (!closed && queued() === 0 && !dropped && ending === null) await new Promise<void>((r) => (wake = r));
        if (closed) return;
        const text = drain();
        if (ending !== null) {
          const last = text + ending;
          if (last) controller.enqueue(encoder.encode(last));
          controller.close();
          close();
          return;
        }
        if (text) controller.enqueue(encoder.encode(text));
      },
      cancel() {
        close();
      },
    },
    { highWaterMark: 0 },
  );

  return {
    body,
    send(line, id) {
      // SSE ends a field at CR or LF: a carriage return inside a line (progress bars) becomes a line break of the event
      push(sse ? `${id === undefined ? "" : `id: ${id}\n`}data: ${line.replace(/\r\n|\r|\n/g, "\ndata: ")}\n\n` : `${line}\n`);
    },
    end,
    ready: () => (closed || queued() <= size / 2 ? Promise.resolve() : new Promise<void>((r) => roomWaiters.push(r))),
    get closed() {
      return closed || ending !== null;
    },
  };
}

/** Wait between reads when no wake-up comes (writes from another process). */
const ROW_POLL_MS = 500;

/**
 * Streams an append-only log table (build or deploy lines with increasing ids) into `out` from
 * `after` on, until `finished()` says the run ended — checked before each read, so every line
 * written before the end is delivered — then ends it with that state.
 */
export async function followRows(
  out: LiveStream,
  opts: { key: string; after: number; read: (after: number) => { id: number; line: string }[]; finished: () => Record<string, unknown> | null },
): Promise<void> {
  let after = opts.after;
  while (!out.closed) {
    const fin = opts.finished();
    const rows = opts.read(after);
    for (const r of rows) {
      // stored lines wait for room instead of pushing older ones out of the ring
      await out.ready();
      if (out.closed) return;
      for (const line of r.line.split("\n")) out.send(line, r.id);
      after = r.id;
    }
    if (rows.length) continue;
    if (fin) return out.end(fin);
    await waitFor(opts.key, ROW_POLL_MS);
  }
}

/** Where a follower resumes: an EventSource's Last-Event-ID (the last line id it got), else `after`. */
export function resumeAfter(req: Request, after = 0): number {
  const last = Number(req.headers.get("last-event-id"));
  return Number.isSafeInteger(last) && last > 0 ? last : after;
}

/** A stored log (build or deploy) as Server-Sent Events from `after` on until its run ends. */
export function storedLogEvents(
  req: Request,
  shutdown: AbortSignal,
  source: { key: string; after: number; read: (after: number) => { id: number; line: string }[]; finished: () => Record<string, unknown> | null },
): Response {
  const out = liveStream({ format: "sse", signal: shutdown, gone: req.signal });
  void followRows(out, { ...source, after: resumeAfter(req, source.after) }).catch((e) => out.end({ reason: `log unreadable: ${(e as Error).message}` }));
  return new Response(out.body, { headers: SSE_HEADERS });
}
