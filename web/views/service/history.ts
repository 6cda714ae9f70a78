// Deployment history: every build, deploy, rollback, redeploy, scale and one-off run with who, when, how long,
// the result and its own log; the live release is marked, older releases can be rolled back to
// and newer ones redeployed. Release changes (image, config) open under each deploy.
import { api } from "../../api";
import { ago, button, duration, empty, h, notify, replace, when } from "../../dom";
import { setLog } from "./pipeline";
import type { Live, Run } from "./state";

const KIND: Record<Run["kind"], string> = { build: "Build", deploy: "Deploy", rollback: "Rollback", redeploy: "Redeploy", scale: "Scale", run: "Run" };

export function historyPanel(live: Live): HTMLElement {
  const box = h("div", { class: "history" });
  const open = new Set<string>(); // runs whose log the user opened stay open across redraws
  const draw = () => {
    const a = live.activity;
    if (!a) return replace(box, h("p", { class: "unavailable" }, "Deployment history: not available on this server."));
    if (!a.items.length) return replace(box, empty("Nothing built or deployed yet."));
    const mayDeploy = !live.ctx.protectedEnv || live.ctx.admin;
    replace(
      box,
      h(
        "ol",
        { class: "runs", "aria-label": "Deployment history" },
        a.items.map((r) => runItem(live, r, a.live_release_version, a.live_deployment_id, mayDeploy, open)),
      ),
    );
  };
  draw();
  live.subscribe((w) => w.activity && draw());
  return box;
}

function runItem(live: Live, r: Run, liveVersion: number | null, liveId: string | null, mayDeploy: boolean, open: Set<string>): HTMLElement {
  const isLive = r.id === liveId;
  const what = r.kind === "build" ? `image v${r.image_version ?? r.version}` : r.kind === "run" ? h("code", null, r.command ?? "") : `release v${r.release_version ?? "?"}`;
  const action =
    r.kind !== "build" && r.kind !== "scale" && r.kind !== "run" && r.status === "complete" && r.release_version && liveVersion && r.release_version !== liveVersion && mayDeploy
      ? button(
          r.release_version < liveVersion ? `Roll back to v${r.release_version}` : `Redeploy v${r.release_version}`,
          async () => {
            await api.post(`${live.ctx.base}/deploy`, { version: r.release_version });
            notify(`Deploying release v${r.release_version}.`);
            await live.poke();
          },
          { class: "small" },
        )
      : null;
  const log = h("pre", { class: "log", tabindex: "0", "aria-label": `Log of ${KIND[r.kind].toLowerCase()} #${r.version}` }, "Loading…");
  const changes = h("div", { class: "changes" });
  const details = h("details", { open: open.has(r.id) || undefined }, h("summary", null, r.kind === "deploy" || r.kind === "rollback" || r.kind === "redeploy" ? "Log and changes" : "Log"), log, changes);
  const readLog = async () => {
    if (!changes.childNodes.length && r.kind !== "build" && r.kind !== "scale" && r.kind !== "run" && r.release_version) releaseChanges(live, r.release_version, changes);
    try {
      const l = await api.get<{ log_text: string | null }>(r.log_path);
      setLog(log, l.log_text || "(empty)");
    } catch (err) {
      setLog(log, (err as Error).message);
    }
  };
  details.addEventListener("toggle", () => {
    if (details.open) open.add(r.id), void readLog();
    else open.delete(r.id);
  });
  if (open.has(r.id)) void readLog();
  return h(
    "li",
    { class: `run ${r.status}${isLive ? " live" : ""}`, "data-run": r.id },
    h(
      "div",
      { class: "run-head" },
      h("strong", null, `${KIND[r.kind]} #${r.version}`),
      " ",
      what,
      isLive ? h("span", { class: "tag live" }, "live") : null,
      h("span", { class: `result ${r.status}` }, r.status === "error" ? "failed" : r.status),
      action,
    ),
    h(
      "p",
      { class: "run-meta" },
      `${r.by ? `by ${r.by}` : "by the server"} · `,
      h("time", { datetime: r.created, title: when(r.created) }, ago(r.created)),
      r.duration_seconds !== null ? ` · took ${duration(r.duration_seconds)}` : "",
    ),
    r.error_detail ? h("p", { class: "error" }, r.error_detail) : null,
    details,
  );
}

type ConfigChanges = { added?: string[]; removed?: string[]; changed?: string[]; values?: Record<string, { from?: string; to?: string }> };
type ImageChanges = { changed?: boolean; from?: { version?: number } | null; to?: { version?: number; ref?: string } | null; processes_added?: string[]; processes_removed?: string[] };
type ReleaseDetail = { image_changes?: ImageChanges; configuration_changes?: ConfigChanges; commit_sha?: string | null };

function releaseChanges(live: Live, version: number, box: HTMLElement): void {
  replace(box, h("p", { class: "loading" }, "Loading changes…"));
  void api.get<ReleaseDetail>(`${live.ctx.base}/releases/${version}`).then(
    (r) =>
      replace(
        box,
        h("p", null, h("strong", null, "Image: "), describeImage(r.image_changes)),
        h("p", null, h("strong", null, "Config: "), describeConfig(r.configuration_changes)),
        r.commit_sha ? h("p", null, h("strong", null, "Commit: "), h("code", null, r.commit_sha.slice(0, 12))) : null,
      ),
    () => replace(box),
  );
}

/** Names added/changed/removed; values only where the server gives them (never for secrets). */
function describeConfig(c: ConfigChanges | undefined): string {
  if (!c) return "—";
  const values = c.values ?? {};
  const named = (n: string) => {
    const v = values[n];
    return v && (v.from !== undefined || v.to !== undefined) ? `${n} (${v.from ?? "unset"} → ${v.to ?? "unset"})` : n;
  };
  const parts = (["added", "changed", "removed"] as const).filter((k) => c[k]?.length).map((k) => `${k} ${c[k]!.map(named).join(", ")}`);
  return parts.join("; ") || "no changes";
}

function describeImage(c: ImageChanges | undefined): string {
  if (!c) return "—";
  const parts = [c.changed ? `image ${c.from?.version ? `v${c.from.version}` : "none"} → v${c.to?.version ?? "?"}` : "same image"];
  if (c.processes_added?.length) parts.push(`new processes ${c.processes_added.join(", ")}`);
  if (c.processes_removed?.length) parts.push(`removed processes ${c.processes_removed.join(", ")}`);
  return parts.join("; ");
}
