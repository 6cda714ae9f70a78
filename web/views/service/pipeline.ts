// Pipeline status (build, release, deploy), the Deploy button, and build/deploy logs that poll
// while a stage is queued or running.
import { api, ApiError, itemsOf, paths } from "../../api";
import { button, h, replace, unavailable } from "../../dom";

type Stage = { status: string; version: number | null; error_detail: string | null } | null;
type Status = { build: Stage; release: Stage; deploy: Stage };
type Svc = { id: string; slug: string };
type Ctx = { org: string; project: string; env: string; svc: Svc };

const ACTIVE = new Set(["queued", "running"]);
const POLL_MS = 1500;

export function pipelinePanel(c: Ctx, onSettled: () => void): HTMLElement {
  const stages = h("div", { class: "stages", "aria-live": "polite" });
  const buildLog = h("pre", { class: "log", tabindex: "0", "aria-label": "Build log" }, "No build yet.");
  const deployLog = h("pre", { class: "log", tabindex: "0", "aria-label": "Deploy log" }, "No deployment yet.");
  const message = h("p", { class: "form-error", role: "alert" });
  let timer: ReturnType<typeof setTimeout> | undefined;
  let wasActive = false;

  const poll = async (): Promise<void> => {
    if (!stages.isConnected && timer !== undefined) return; // the page changed: stop polling
    let status: Status;
    try {
      status = await api.get<Status>(`${paths.projectH(c.org, c.project)}/pipeline/status?${paths.qs({ service: c.svc.slug, env: c.env })}`);
    } catch (err) {
      replace(stages, err instanceof ApiError && err.unavailable ? unavailable("Pipeline status") : h("p", { class: "error" }, (err as Error).message));
      return;
    }
    replace(stages, stageBadge("Build", status.build), stageBadge("Release", status.release), stageBadge("Deploy", status.deploy));
    await Promise.all([showBuildLog(c, status.build, buildLog), showDeployLog(c, deployLog)]);
    const active = [status.build, status.release, status.deploy].some((s) => s && ACTIVE.has(s.status));
    if (wasActive && !active) onSettled();
    wasActive = active;
    if (active) timer = setTimeout(() => void poll(), POLL_MS);
  };

  const deploy = button(
    "Deploy",
    async () => {
      message.textContent = "";
      try {
        const target = { service: c.svc.slug, env: c.env };
        await api.post(`${paths.projectH(c.org, c.project)}/pipeline/deploy?${paths.qs(target)}`, target);
        clearTimeout(timer);
        wasActive = true;
        await poll();
      } catch (err) {
        message.textContent = err instanceof ApiError && err.unavailable ? "Deploying is not available yet on this server." : (err as Error).message;
      }
    },
    { class: "primary" },
  );
  void poll();
  return h(
    "div",
    null,
    stages,
    h("div", { class: "actions" }, deploy),
    message,
    h("details", { open: true }, h("summary", null, "Build log"), buildLog),
    h("details", { open: true }, h("summary", null, "Deploy log"), deployLog),
  );
}

function stageBadge(label: string, s: Stage): HTMLElement {
  const status = s?.status ?? "none";
  return h(
    "div",
    { class: `stage ${status}` },
    h("strong", null, label),
    h("span", null, s ? `${status}${s.version ? ` · v${s.version}` : ""}` : "no activity"),
    s?.error_detail ? h("small", null, s.error_detail) : null,
  );
}

async function showBuildLog(c: Ctx, build: Stage, pre: HTMLElement): Promise<void> {
  if (!build?.version) return;
  try {
    const log = await api.get<{ log_text: string | null }>(`${paths.service(c.org, c.project, c.env, c.svc.slug)}/images/${build.version}/log`);
    setLog(pre, log.log_text || "(empty)");
  } catch (err) {
    setLog(pre, err instanceof ApiError && err.unavailable ? "Build logs are not available yet on this server." : (err as Error).message);
  }
}

async function showDeployLog(c: Ctx, pre: HTMLElement): Promise<void> {
  try {
    const envPath = paths.env(c.org, c.project, c.env);
    const latest = itemsOf<{ id: string; application_id: string }>(await api.get(`${envPath}/deployments`)).find((d) => d.application_id === c.svc.id);
    if (!latest) return;
    const log = await api.get<{ log_text: string | null }>(`${envPath}/deployments/${latest.id}/log`);
    setLog(pre, log.log_text || "(empty)");
  } catch (err) {
    setLog(pre, err instanceof ApiError && err.unavailable ? "Deploy logs are not available yet on this server." : (err as Error).message);
  }
}

function setLog(pre: HTMLElement, text: string): void {
  const atBottom = pre.scrollHeight - pre.scrollTop - pre.clientHeight < 24;
  if (pre.textContent !== text) pre.textContent = text;
  if (atBottom) pre.scrollTop = pre.scrollHeight;
}

