// The serving deployment's replicas as the server last saw them (state, restarts, last exit, port),
// redrawn from the page's live state so a replica Docker or Ancla brings back shows up without a reload.
import { duration, empty, h, replace, table, when } from "../../dom";
import type { Live } from "./state";

import type { ReplicaView } from "../../types";

export type { ReplicaView };

function stateText(r: ReplicaView): string {
  if (r.state === "exited" && r.exit_code !== null) return `exited (code ${r.exit_code})`;
  if (r.in_rotation === false && r.state === "running") return "running (not serving yet)";
  return r.state;
}

/** How long the replica's container has been up (needs the server's started_at). */
const uptime = (r: ReplicaView) => (r.state === "running" && r.started_at ? duration((Date.now() - Date.parse(r.started_at)) / 1000) : "—");

function render(box: HTMLElement, replicas: ReplicaView[], counts: Record<string, number>): void {
  const summary = Object.keys({ ...counts, ...Object.fromEntries(replicas.map((r) => [r.process, 0])) })
    .sort()
    .map((p) => `${p}: ${replicas.filter((r) => r.process === p && r.state === "running").length}/${counts[p] ?? 0} running`)
    .join(" · ");
  const rows = replicas.map((r) => [
    `${r.process}.${r.replica}`,
    h("span", { class: `replica-state ${r.state}` }, stateText(r)),
    uptime(r),
    h("span", { title: `Ancla ${r.ancla_restarts}, Docker ${r.docker_restarts}` }, String(r.restart_count)),
    r.last_exit_at ? `${when(r.last_exit_at)}${r.exit_code !== null ? ` (code ${r.exit_code})` : ""}` : "—",
    h("code", null, r.container_id),
    r.host_port ?? "—",
    r.last_error ? `${r.last_error}${r.next_attempt_at ? ` — next attempt ${when(r.next_attempt_at)}` : ""}` : "",
  ]);
  replace(
    box,
    h("p", { class: "replica-summary" }, summary || "Nothing deployed yet."),
    rows.length ? table(["Replica", "State", "Up", "Restarts", "Last exit", "Container", "Port", "Problem"], rows, "Replicas of the serving deployment") : empty("No replicas run."),
  );
}

/** The serving deployment's replicas, redrawn whenever the page's live state reads the detail. */
export function replicasPanel(live: Live): HTMLElement {
  const box = h("div", { class: "replicas" });
  const draw = () => render(box, live.detail.replicas ?? [], live.detail.process_counts);
  draw();
  live.subscribe((w) => w.detail && draw());
  return box;
}
