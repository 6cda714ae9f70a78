// A Server-Sent Events reader for tests (the text/event-stream parsing an EventSource does):
// events collected as they arrive; `next` waits for one matching a predicate.
import { sseEvents } from "../../src/cli/events";

export type SseEvent = { event: string; data: string; id?: string };

export type SseReader = {
  status: number;
  headers: Headers;
  events: SseEvent[];
  /** Resolves with the first event (already received or coming) that matches; rejects when the stream ends without one. */
  next: (match: (e: SseEvent) => boolean) => Promise<SseEvent>;
  /** Resolves when the server ends the stream. */
  done: Promise<void>;
  close: () => void;
};

export async function openSse(url: string, headers: Record<string, string> = {}): Promise<SseReader> {
  const controller = new AbortController();
  const res = await fetch(url, { headers: { accept: "text/event-stream", ...headers }, signal: controller.signal });
  const events: SseEvent[] = [];
  const waiters = new Set<() => void>();
  let ended = false;
  const done = (async () => {
    if (!res.body) return;
    try {
      for await (const block of sseEvents(res.body as unknown as AsyncIterable<Uint8Array>)) {
        if (!block.data.length && block.event === "message") continue; // a comment-only block
        const e: SseEvent = { event: block.event, data: block.data.join("\n"), ...(block.id !== undefined ? { id: block.id } : {}) };
        events.push(e);
        for (const w of waiters) w();
      }
    } catch {
      // aborted by close()
    } finally {
      ended = true;
      for (const w of waiters) w();
    }
  })();
  const next = (match: (e: SseEvent) => boolean) =>
    new Promise<SseEvent>((resolve, reject) => {
      const check = () => {
        const hit = events.find(match);
        if (hit) return waiters.delete(check), resolve(hit);
        if (ended) return waiters.delete(check), reject(new Error(`stream ended without the event; got ${JSON.stringify(events.slice(-5))}`));
      };
      waiters.add(check);
      check();
    });
  return { status: res.status, headers: res.headers, events, next, done, close: () => controller.abort() };
}
