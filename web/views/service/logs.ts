// Container output that follows live (a streamed response, read while the tab is open), with
// timestamps, a replica filter and ANSI colour codes stripped. At most MAX_LINES are kept.
import { h, replace } from "../../dom";

const MAX_LINES = 2000;
// CSI sequences (colours, cursor moves) and OSC titles; what remains is the text
const ANSI = /\u001b\[[0-?]*[ -/]*[@-~]|\u001b\][^\u0007\u001b]*(?:\u0007|\u001b\\)|\u001b[@-Z\\-_]/g;
export const stripAnsi = (s: string) => s.replace(ANSI, "");
const LINE = /^(?:(\d{4}-\d\d-\d\dT[\d:.]+Z) )?(\S+) \| ?(.*)$/;

type Line = { at: string | null; replica: string; text: string };

export function parseLogLine(raw: string, receivedAt: string | null): Line {
  const clean = stripAnsi(raw);
  const m = LINE.exec(clean);
  if (!m) return { at: receivedAt, replica: "", text: clean };
  return { at: m[1] ?? receivedAt, replica: m[2]!, text: m[3]! };
}

const clock = (iso: string | null) => {
  if (!iso) return "";
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? "" : d.toLocaleTimeString([], { hour12: false });
};

/** `path`: the service's logs route. Stops (aborts the stream) when the panel leaves the page. */
export function logsPanel(path: string): HTMLElement {
  const lines: Line[] = [];
  const replicas = new Set<string>();
  const filter = h("select", { id: "log-replica", "aria-label": "Replica" }, h("option", { value: "" }, "All replicas"));
  const pre = h("pre", { class: "log tall", tabindex: "0", "aria-label": "Container output", "aria-live": "off" });
  const state = h("span", { class: "hint", role: "status" }, "Connecting…");
  const followBox = h("input", { type: "checkbox", id: "log-follow", checked: true });
  let ctrl: AbortController | null = null;
  const panel = h(
    "div",
    { class: "logs" },
    h("div", { class: "log-bar" }, h("label", { for: "log-replica" }, "Show"), filter, h("span", { class: "check" }, followBox, h("label", { for: "log-follow" }, "Follow live")), state),
    pre,
  );

  const render = () => {
    const want = filter.value;
    const shown = want ? lines.filter((l) => l.replica === want) : lines;
    const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
    pre.textContent = shown.length ? shown.map((l) => `${clock(l.at).padEnd(8)} ${l.replica ? l.replica + " | " : ""}${l.text}`).join("\n") : "(no output yet)";
    if (atBottom || followBox.checked) pre.scrollTop = pre.scrollHeight;
  };
  let pending = false;
  const schedule = () => {
    if (pending) return;
    pending = true;
    requestAnimationFrame(() => ((pending = false), render()));
  };
  const add = (raw: string, receivedAt: string | null) => {
    if (!raw) return;
    const l = parseLogLine(raw, receivedAt);
    lines.push(l);
    if (lines.length > MAX_LINES) lines.splice(0, lines.length - MAX_LINES);
    if (l.replica && !replicas.has(l.replica)) {
      replicas.add(l.replica);
      const opts = [...replicas].sort().map((r) => h("option", { value: r, selected: r === filter.value }, r));
      replace(filter, h("option", { value: "" }, "All replicas"), opts);
    }
  };

  const start = async () => {
    ctrl?.abort();
    const mine = (ctrl = new AbortController());
    lines.length = 0;
    state.textContent = "Connecting…";
    const follow = followBox.checked;
    let res: Response;
    try {
      res = await fetch(`${path}${path.includes("?") ? "&" : "?"}tail=200&timestamps=1${follow ? "&follow=1" : ""}`, { credentials: "same-origin", signal: mine.signal });
    } catch {
      if (!mine.signal.aborted) state.textContent = "The server could not be reached.";
      return;
    }
    if (!res.ok || !res.body) {
      let msg = `Logs unavailable (${res.status}).`;
      try {
        msg = (await res.json()).message ?? msg;
      } catch {}
      state.textContent = msg;
      return;
    }
    state.textContent = follow ? "Following live." : "Latest 200 lines.";
    const reader = res.body.pipeThrough(new TextDecoderStream()).getReader();
    let partial = "";
    const firstAt = Date.now();
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done || mine.signal.aborted) break;
        if (!panel.isConnected) return void mine.abort();
        const parts = (partial + value).split("\n");
        partial = parts.pop() ?? "";
        // the first burst is the recent tail: it has no receive time of its own
        const at = Date.now() - firstAt > 500 ? new Date().toISOString() : null;
        for (const p of parts) add(p, at);
        schedule();
      }
    } catch {
      // aborted or cut off
    }
    if (partial) add(partial, null);
    schedule();
    if (mine === ctrl && !mine.signal.aborted && follow) state.textContent = "The stream ended (server restart?). Tick Follow live to reconnect.";
  };
  filter.addEventListener("change", render);
  followBox.addEventListener("change", () => void start());
  // stop following when the panel leaves the page (tab switch or navigation)
  const watch = new MutationObserver(() => {
    if (!panel.isConnected && ctrl) {
      ctrl.abort();
      watch.disconnect();
    }
  });
  queueMicrotask(() => {
    watch.observe(document.body, { childList: true, subtree: true });
    void start();
  });
  return panel;
}
