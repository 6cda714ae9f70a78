// Pipeline progress of the latest run (build, release, deploy) with its build and deploy logs,
// redrawn from the page's live state; logs are re-read while a stage is queued or running.
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
    await Promise.all([
      s.build?.version ? readLog(`${base}/images/${s.build.version}/log`, buildLog, "Build logs") : null,
      lastDeploy ? readLog(lastDeploy.log_path, deployLog, "Deploy logs") : null,
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

async function readLog(path: string, pre: HTMLElement, what: string): Promise<void> {
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
