// Pipeline progress of the latest run (build, release, deploy) with its build and deploy logs,
// redrawn from the page's live state; a stage in progress streams its log (Server-Sent Events).
import { api, ApiError, paths } from "../../api";
import { h, replace } from "../../dom";
import { isActive, type Live, type Stage } from "./state";

export function pipelinePanel(live: Live): HTMLElement {
  const c = live.ctx;
  const stages = h("div", { class: "stages" });
  const buildLog = h("pre", { class: "log", tabindex: "0", "aria-label": "Build log" }, "No build yet.");
  const deployLog = h("pre", { class: "log", tabindex: "0", "aria-label": "Deploy log" }, "No deployment yet.");
  let wasActive = true; // read the logs once at first
  const draw = async () => {
    const s = live.status;
    if (!s) return void replace(stages, h("p", { class: "hint" }, "Pipeline status is loading…"));
    replace(stages, stageBadge("Build", s.build), stageBadge("Release", s.release), stageBadge("Deploy", s.deploy));
    const active = isActive(s);
    if (!active && !wasActive) return;
    wasActive = active;
    const base = paths.service(c.org, c.project, c.env, c.service);
    const lastDeploy = live.activity?.items.find((r) => r.kind !== "build");
    // a stage in progress streams its log (Server-Sent Events: every line as it is written);
    // a finished one is read once
    const show = (path: string, pre: HTMLElement, what: string, running: boolean) => (running ? streamLog(path, pre) : readLog(path, pre, what));
    await Promise.all([
      s.build?.version ? show(`${base}/images/${s.build.version}/log`, buildLog, "Build logs", isRunning(s.build)) : null,
      lastDeploy ? show(lastDeploy.log_path, deployLog, "Deploy logs", isRunning(s.deploy)) : null,
    ]);
  };
  void draw();
  live.subscribe(() => void draw());
  return h(
    "div",
    null,
    stages,
    h("details", { open: true }, h("summary", null, "Build log"), buildLog),
    h("details", { open: true }, h("summary", null, "Deploy log"), deployLog),
  );
}

export function stageBadge(label: string, s: Stage): HTMLElement {
  const status = s?.status ?? "none";
  const step = s?.step && ACTIVE_TEXT.has(status) && s.step.name ? ` — ${s.step.name}${s.step.total ? ` (${(s.step.index ?? 0) + 1}/${s.step.total})` : ""}` : "";
  return h(
    "div",
    { class: `stage ${status}` },
    h("strong", null, label),
    h("span", null, s ? `${status}${s.version ? ` · v${s.version}` : ""}${step}` : "no activity"),
    s?.error_detail ? h("small", null, s.error_detail) : null,
  );
}
const ACTIVE_TEXT = new Set(["queued", "running"]);

const isRunning = (s: Stage) => !!s && ACTIVE_TEXT.has(s.status);

// one stream per log panel; a new path (the next run) replaces it
const streams = new WeakMap<HTMLElement, { path: string; source: EventSource }>();

/** Follows a build or deploy log live until the server's `end` event (or the panel leaves the page). */
function streamLog(path: string, pre: HTMLElement): void {
  const current = streams.get(pre);
  if (current?.path === path) return;
  current?.source.close();
  let text = "";
  const source = new EventSource(path); // same origin: the session cookie goes along
  streams.set(pre, { path, source });
  const add = (line: string) => {
    if (!pre.isConnected) return source.close();
    text += line + "\n";
    setLog(pre, text);
  };
  source.onmessage = (e) => add(e.data);
  source.addEventListener("gap", (e) => add(`(… ${JSON.parse((e as MessageEvent).data).dropped} lines skipped)`));
  // the run ended: the stream is complete (the browser would otherwise reconnect)
  source.addEventListener("end", () => source.close());
}

async function readLog(path: string, pre: HTMLElement, what: string): Promise<void> {
  if (streams.get(pre)?.path === path && streams.get(pre)!.source.readyState !== EventSource.CLOSED) return; // still streaming it
  try {
    const log = await api.get<{ log_text: string | null }>(path);
    setLog(pre, log.log_text || "(empty)");
  } catch (err) {
    setLog(pre, err instanceof ApiError && err.unavailable ? `${what} are not available yet on this server.` : (err as Error).message);
  }
}

export function setLog(pre: HTMLElement, text: string): void {
  const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
  if (pre.textContent !== text) pre.textContent = text;
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}
