// The serving deployment's replicas as the server last saw them (state, restarts, last exit, port),
// refreshed while the page is open so a replica Docker or Ancla brings back shows up without a reload.
import { api } from "../../api";
import { empty, h, replace, table, when } from "../../dom";

export type ReplicaView = {
  process: string;
  replica: number;
  container_id: string;
  state: string;
  exit_code: number | null;
  restart_count: number;
  ancla_restarts: number;
  docker_restarts: number;
  last_exit_at: string | null;
  host_port: number | null;
  in_rotation: boolean | null;
  last_error: string | null;
  next_attempt_at: string | null;
};

const POLL_MS = 3000;

function stateText(r: ReplicaView): string {
  if (r.state === "exited" && r.exit_code !== null) return `exited (code ${r.exit_code})`;
  if (r.in_rotation === false && r.state === "running") return "running (not serving yet)";
  return r.state;
}

function render(box: HTMLElement, replicas: ReplicaView[], counts: Record<string, number>): void {
  const summary = Object.keys({ ...counts, ...Object.fromEntries(replicas.map((r) => [r.process, 0])) })
    .sort()
    .map((p) => `${p}: ${replicas.filter((r) => r.process === p && r.state === "running").length}/${counts[p] ?? 0} running`)
    .join(" · ");
  const rows = replicas.map((r) => [
    `${r.process}.${r.replica}`,
    h("span", { class: `replica-state ${r.state}` }, stateText(r)),
    h("code", null, r.container_id),
    r.host_port ?? "—",
    h("span", { title: `Ancla ${r.ancla_restarts}, Docker ${r.docker_restarts}` }, String(r.restart_count)),
    r.last_exit_at ? `${when(r.last_exit_at)}${r.exit_code !== null ? ` (code ${r.exit_code})` : ""}` : "—",
    r.last_error ? `${r.last_error}${r.next_attempt_at ? ` — next attempt ${when(r.next_attempt_at)}` : ""}` : "",
  ]);
  replace(
    box,
    h("p", { class: "replica-summary" }, summary || "Nothing deployed yet."),
    rows.length ? table(["Replica", "State", "Container", "Port", "Restarts", "Last exit", "Problem"], rows, "Replicas of the serving deployment") : empty("No replicas run."),
  );
}

/** `detailPath`: the service detail route, whose `replicas` field this shows. */
export function replicasPanel(detailPath: string, first: { replicas?: ReplicaView[]; process_counts: Record<string, number> }): HTMLElement {
  const box = h("div", { "aria-live": "polite" });
  render(box, first.replicas ?? [], first.process_counts);
  const poll = async () => {
    if (!box.isConnected) return; // the page changed: stop
    try {
      const svc = await api.get<{ replicas?: ReplicaView[]; process_counts: Record<string, number> }>(detailPath);
      render(box, svc.replicas ?? [], svc.process_counts);
    } catch {
      // keep the last view; the next poll tries again
    }
    setTimeout(() => void poll(), POLL_MS);
  };
  // the box is attached after this returns: start polling once it is in the page
  setTimeout(() => void poll(), POLL_MS);
  return box;
}
