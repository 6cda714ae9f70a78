// WS /api/v1/exec/ws: an exec session for our own CLI (`ancla shell`, `ancla ssh`) and browsers,
// the same as over SSH. The client's first message is text, JSON {"token", "tty", "cols", "rows",
// "term", "command"?}; after that binary messages are stdin and text messages are control:
// {"type":"resize","cols","rows"} and {"type":"eof"}. The server sends binary messages whose first
// byte is the stream (1 stdout, 2 stderr) and, once the command ended, {"type":"exit","code"}.
// The token travels in the first message, not the URL, so it never reaches an access log.
import { Elysia } from "elysia";
import type { Deps } from "../../deps";
import type { ExecSession } from "../../targets/target";
import { isoNow } from "../../deps";
import * as repo from "./repo";
import { redeemToken, startExec } from "./sessions";

const FIRST_MESSAGE_MS = 10_000;
// Bun's own socket (Elysia's `ws.raw`): Elysia's send would turn binary data into JSON
type Socket = { send: (data: string | Uint8Array) => unknown; close: (code?: number, reason?: string) => unknown; remoteAddress?: string };
const rawOf = (ws: { raw: unknown }): Socket => ws.raw as Socket;
type State = { exec: ExecSession | null; starting: boolean; closed: boolean; timer: ReturnType<typeof setTimeout>; queued: (Uint8Array | Record<string, unknown>)[]; queuedBytes: number };
// input that arrives while the command is starting waits (up to this much)
const MAX_QUEUED_BYTES = 1024 * 1024;

function asBytes(m: unknown): Uint8Array | null {
  if (m instanceof Uint8Array) return m;
  if (m instanceof ArrayBuffer) return new Uint8Array(m);
  return null;
}

function asControl(m: unknown): Record<string, unknown> | null {
  if (typeof m === "string") {
    try {
      const v = JSON.parse(m);
      return v && typeof v === "object" ? v : null;
    } catch {
      return null;
    }
  }
  return m && typeof m === "object" && !(m instanceof Uint8Array) && !(m instanceof ArrayBuffer) ? (m as Record<string, unknown>) : null;
}

const num = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) && v > 0 && v < 10_000 ? Math.floor(v) : undefined);

function apply(exec: ExecSession, m: Uint8Array | Record<string, unknown>): void {
  if (m instanceof Uint8Array) return exec.write(m);
  if (m.type === "resize") void exec.resize(num(m.cols) ?? 80, num(m.rows) ?? 24);
  else if (m.type === "eof") exec.end();
}

export function execSocket(deps: Deps) {
  const states = new Map<string, State>();
  const refuse = (ws: Socket, why: string) => {
    ws.send(JSON.stringify({ type: "error", message: why }));
    ws.close(4401, "refused");
  };
  const begin = async (ws: Socket, state: State, msg: Record<string, unknown>) => {
    state.starting = true;
    clearTimeout(state.timer);
    const token = typeof msg.token === "string" ? msg.token : "";
    const redeemed = await redeemToken(deps, token, "websocket", ws.remoteAddress ?? null);
    if (!redeemed) return refuse(ws, "This exec token is not valid (unknown, expired or already used); request a new one.");
    // the client left while the token was redeemed: start nothing (the command would run on with nobody attached)
    if (state.closed) return void repo.updateExecSession(deps.db, redeemed.session.id, { finishedAt: isoNow(deps), exitCode: null });
    const command = typeof msg.command === "string" && msg.command.length > 0 && msg.command.length <= 4096 ? msg.command : undefined;
    try {
      state.exec = await startExec(deps, redeemed, { command, tty: msg.tty === true, cols: num(msg.cols), rows: num(msg.rows), term: typeof msg.term === "string" ? msg.term : undefined });
    } catch (e) {
      deps.logger.warn("exec failed to start", { session: redeemed.session.id, error: (e as Error).message });
      return refuse(ws, "Could not start the command in the replica.");
    }
    if (state.closed) return state.exec.close(); // it left while the command started: end it (its stdin closes)
    state.exec.onOutput((fd, data) => {
      const frame = new Uint8Array(data.byteLength + 1);
      frame[0] = fd;
      frame.set(data, 1);
      ws.send(frame);
    });
    for (const m of state.queued.splice(0)) apply(state.exec, m);
    void state.exec.exited.then((code) => {
      ws.send(JSON.stringify({ type: "exit", code }));
      ws.close(1000, "exited");
    });
  };
  return new Elysia().ws("/api/v1/exec/ws", {
    open(ws) {
      const state: State = { exec: null, starting: false, closed: false, queued: [], queuedBytes: 0, timer: setTimeout(() => ws.close(4408, "no token"), FIRST_MESSAGE_MS) };
      states.set(ws.id, state);
    },
    message(ws, message) {
      const state = states.get(ws.id);
      if (!state) return;
      const bytes = asBytes(message);
      if (!state.starting) {
        const first = asControl(message);
        if (!first) return refuse(rawOf(ws), "The first message must be JSON with the exec token.");
        return void begin(rawOf(ws), state, first);
      }
      const m = bytes ?? asControl(message);
      if (!m) return;
      if (state.exec) return apply(state.exec, m);
      state.queuedBytes += bytes?.byteLength ?? 0;
      if (state.queuedBytes > MAX_QUEUED_BYTES) return void ws.close(1009, "too much input before the command started");
      state.queued.push(m);
    },
    close(ws) {
      const state = states.get(ws.id);
      states.delete(ws.id);
      if (!state) return;
      state.closed = true;
      clearTimeout(state.timer);
      state.exec?.close();
    },
  });
}
