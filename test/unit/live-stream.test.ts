// The live stream behind log follows: SSE framing, the bounded ring (a reader that falls behind
// gets a gap with the count of dropped lines, never an unbounded queue), stored lines waiting for
// room instead of being dropped, and the ends (end(), shutdown signal, client gone).
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { followRows, liveStream } from "../../src/lib/live-stream";
import { wake } from "../../src/lib/wake";

setDefaultTimeout(120_000);

const decoder = new TextDecoder();
async function readAll(body: ReadableStream<Uint8Array>): Promise<string> {
  let text = "";
  for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) text += decoder.decode(chunk);
  return text;
}

describe("liveStream", () => {
  test("SSE: data per line with its id, a carriage return splits the field, end carries its data", async () => {
    const s = liveStream({ format: "sse" });
    s.send("hello", 7);
    s.send("50%\r100%");
    s.end({ status: "complete" });
    expect(await readAll(s.body)).toBe(': stream open\n\nid: 7\ndata: hello\n\ndata: 50%\ndata: 100%\n\nevent: end\ndata: {"status":"complete"}\n\n');
  });

  test("a reader that falls behind: the ring keeps the newest lines and the reader learns how many it missed", async () => {
    const s = liveStream({ format: "text", ring: 4 });
    for (let i = 1; i <= 10; i++) s.send(`line ${i}`);
    s.end();
    expect(await readAll(s.body)).toBe("(6 lines skipped: this client read slower than they came)\nline 7\nline 8\nline 9\nline 10\n");
  });

  test("the shutdown signal ends an open SSE stream with `server stopping`; a client gone closes it without one", async () => {
    const shutdown = new AbortController();
    let closed = 0;
    const s = liveStream({ format: "sse", signal: shutdown.signal, onClose: () => closed++ });
    s.send("one");
    const reading = readAll(s.body);
    shutdown.abort();
    expect(await reading).toBe(': stream open\n\ndata: one\n\nevent: end\ndata: {"reason":"server stopping"}\n\n');
    expect(closed).toBe(1);

    const gone = new AbortController();
    const t = liveStream({ format: "sse", gone: gone.signal, onClose: () => closed++ });
    gone.abort();
    expect(t.closed).toBe(true);
    expect(closed).toBe(2);
  });
});

describe("followRows", () => {
  test("stored lines wait for room (none dropped with a small ring), new ones arrive on wake, the end comes after every line", async () => {
    const rows = Array.from({ length: 50 }, (_, i) => ({ id: i + 1, line: `stored ${i + 1}` }));
    let done: Record<string, unknown> | null = null;
    const s = liveStream({ format: "text", ring: 4 });
    const following = followRows(s, { key: "test-log", after: 0, read: (after) => rows.filter((r) => r.id > after), finished: () => done });
    const reader = s.body.getReader();
    let text = "";
    while (!text.includes("stored 50\n")) text += decoder.decode((await reader.read()).value);
    rows.push({ id: 51, line: "live 51" });
    wake("test-log");
    while (!text.includes("live 51\n")) text += decoder.decode((await reader.read()).value);
    done = { status: "complete" };
    rows.push({ id: 52, line: "last 52" }); // written just before the run ended
    wake("test-log");
    for (let r = await reader.read(); !r.done; r = await reader.read()) text += decoder.decode(r.value);
    await following;
    expect(text).not.toContain("skipped");
    expect(text.trimEnd().split("\n")).toEqual([...rows.map((r) => r.line)]);
  });
});
