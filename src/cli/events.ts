// Following a server stream as Server-Sent Events (build, deploy and container logs): lines as the
// server writes them, no polling. Resolves with the `end` event's data when the server ends the
// stream (the run finished, or the server is stopping); a connection lost midway resumes from the
// last line id (Last-Event-ID) a few times before giving up.
import { AppError } from "../errors";
import { errorFromResponse, NETWORK_EXIT, type ApiClient } from "./client";

export type StreamEnd = Record<string, unknown>;
const RETRIES = 3;

async function open(client: ApiClient, path: string, lastId: string | undefined): Promise<Response> {
  const { server, apiKey } = client.settings;
  if (!apiKey) throw new AppError(401, "not logged in: run `ancla login`, pass --api-key or set ANCLA_API_KEY", "unauthorized", 3);
  let res: Response;
  try {
    res = await fetch(server + path, {
      headers: { accept: "text/event-stream", "x-api-key": apiKey, "user-agent": "ancla-cli", ...(lastId ? { "last-event-id": lastId } : {}) },
    });
  } catch (e) {
    throw new AppError(0, `cannot reach the Ancla server at ${server}: ${(e as Error).message}`, "network", NETWORK_EXIT);
  }
  if (!res.ok) {
    const text = await res.text();
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {}
    throw errorFromResponse(res.status, body);
  }
  return res;
}

export type SseBlock = { event: string; data: string[]; id?: string };

/** The events of a text/event-stream body, as an EventSource parses them (comment lines skipped). */
export async function* sseEvents(body: AsyncIterable<Uint8Array>): AsyncGenerator<SseBlock> {
  const decoder = new TextDecoder();
  let buf = "";
  for await (const chunk of body) {
    buf += decoder.decode(chunk, { stream: true });
    let i: number;
    while ((i = buf.indexOf("\n\n")) !== -1) {
      const block = buf.slice(0, i);
      buf = buf.slice(i + 2);
      const e: SseBlock = { event: "message", data: [] };
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) continue;
        const colon = line.indexOf(":");
        const field = colon === -1 ? line : line.slice(0, colon);
        const value = colon === -1 ? "" : line.slice(colon + 1).replace(/^ /, "");
        if (field === "data") e.data.push(value);
        else if (field === "event") e.event = value;
        else if (field === "id") e.id = value;
      }
      yield e;
    }
  }
}

/**
 * Calls `onLine` for every data line until the server sends `end`; returns its data. `retries`:
 * reconnects after a broken connection (streams whose lines carry ids resume after the last one;
 * 0 for streams without ids, which would repeat their tail).
 */
export async function followEvents(client: ApiClient, path: string, onLine: (line: string) => void, retries = RETRIES): Promise<StreamEnd> {
  let lastId: string | undefined;
  for (let attempt = 0; ; attempt++) {
    const res = await open(client, path, lastId);
    try {
      for await (const e of sseEvents(res.body as unknown as AsyncIterable<Uint8Array>)) {
        if (e.id !== undefined) lastId = e.id;
        if (e.event === "end") return e.data.length ? (JSON.parse(e.data.join("\n")) as StreamEnd) : {};
        if (e.event === "gap") onLine(`(… ${(JSON.parse(e.data.join("\n")) as { dropped: number }).dropped} lines skipped: this terminal read slower than they came)`);
        else if (e.data.length) onLine(e.data.join("\n"));
      }
    } catch {
      // the connection broke: resume below
    }
    if (attempt >= retries) throw new AppError(0, "the log stream broke off and did not come back", "network", NETWORK_EXIT);
    await Bun.sleep(500);
  }
}

/** An `end` that says the server is going away: the follow could not finish. */
export function stoppedEarly(end: StreamEnd): AppError | null {
  return typeof end.reason === "string" ? new AppError(0, `the server ended the stream: ${end.reason}; run the command again to keep following`, "network", NETWORK_EXIT) : null;
}
