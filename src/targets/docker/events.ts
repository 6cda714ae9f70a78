// The Docker event stream of managed containers: parsing (pure) and a watcher that reconnects
// with backoff when the engine restarts or the stream ends. Each (re)connect is reported, so the
// caller can resync from a container listing: events sent while disconnected are lost.
import type { DockerClient } from "./client";
import { LABEL } from "./specs";

/** Container lifecycle actions that can change whether (and on which port) a replica serves. */
export const CONTAINER_ACTIONS = ["die", "start", "restart", "health_status", "destroy", "pause", "unpause", "kill", "oom"] as const;

export type ContainerEvent = {
  id: string;
  /** "die", "start", …; health_status carries its verdict ("health_status: unhealthy") */
  action: string;
  /** the container's labels plus Docker's attributes (name, image, exitCode, signal) */
  attributes: Record<string, string>;
  /** epoch ms */
  time: number;
};

/**
 * Split a chunk of the stream (newline-delimited JSON; one object may span chunks) into events;
 * `rest` is the incomplete tail to prepend to the next chunk. Lines that are not container
 * events are skipped rather than fatal: the stream outlives one odd line.
 */
export function parseEvents(buffer: string): { events: ContainerEvent[]; rest: string } {
  const lines = buffer.split("\n");
  const rest = lines.pop() ?? "";
  const events: ContainerEvent[] = [];
  for (const line of lines) {
    if (!line.trim()) continue;
    let raw: { Type?: string; Action?: string; id?: string; Actor?: { ID?: string; Attributes?: Record<string, string> }; time?: number; timeNano?: number };
    try {
      raw = JSON.parse(line);
    } catch {
      continue;
    }
    const id = raw.Actor?.ID ?? raw.id;
    if (raw.Type !== "container" || !id || !raw.Action) continue;
    const time = raw.timeNano ? Math.floor(raw.timeNano / 1e6) : (raw.time ?? 0) * 1000;
    events.push({ id, action: raw.Action, attributes: raw.Actor?.Attributes ?? {}, time });
  }
  return { events, rest };
}

export type EventWatcherHooks = {
  onEvent: (e: ContainerEvent) => void;
  /** The stream is (again) open: anything may have happened meanwhile. */
  onConnect: () => void;
  /** The stream failed or ended; the watcher retries after `retryInMs`. */
  onDisconnect: (error: string, retryInMs: number) => void;
};

export type EventWatcher = { stop: () => void; connected: () => boolean };

const MIN_RETRY_MS = 500;
const MAX_RETRY_MS = 30_000;

/** Follow managed containers' events until stop(); never throws. */
export function watchContainerEvents(docker: DockerClient, hooks: EventWatcherHooks): EventWatcher {
  let stopped = false;
  let open = false;
  let retryMs = MIN_RETRY_MS;
  let abort: AbortController | null = null;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const retry = (error: string) => {
    open = false;
    if (stopped) return;
    hooks.onDisconnect(error, retryMs);
    timer = setTimeout(connect, retryMs);
    retryMs = Math.min(MAX_RETRY_MS, retryMs * 2);
  };

  async function connect() {
    if (stopped) return;
    abort = new AbortController();
    let stream: NodeJS.ReadableStream;
    try {
      stream = (await docker.getEvents({
        filters: { type: ["container"], label: [`${LABEL.managed}=true`], event: [...CONTAINER_ACTIONS] },
        abortSignal: abort.signal,
      } as never)) as unknown as NodeJS.ReadableStream;
    } catch (e) {
      return retry((e as Error).message);
    }
    if (stopped) return;
    open = true;
    retryMs = MIN_RETRY_MS;
    let buffer = "";
    let ended = false;
    const end = (error: string) => {
      if (ended) return;
      ended = true;
      retry(error);
    };
    stream.on("data", (chunk: Buffer | string) => {
      const parsed = parseEvents(buffer + chunk.toString());
      buffer = parsed.rest;
      for (const e of parsed.events) {
        try {
          hooks.onEvent(e);
        } catch {
          // a failing handler must not end the stream (the caller logs its own failures)
        }
      }
    });
    stream.on("end", () => end("the event stream ended"));
    stream.on("close", () => end("the event stream closed"));
    stream.on("error", (e: Error) => end(e.message));
    hooks.onConnect();
  }

  void connect();
  return {
    stop() {
      stopped = true;
      open = false;
      clearTimeout(timer);
      abort?.abort();
    },
    connected: () => open,
  };
}
