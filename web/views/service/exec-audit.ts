// Settings → Exec sessions (organization admins): every exec into this service's replicas — who,
// when, process, command, over SSH or the WebSocket, exit status. The API lists the whole
// organization's (GET /orgs/{org}/exec-sessions); this panel keeps the service's.
import { api } from "../../api";
import { empty, h, load, table, when } from "../../dom";

type ExecSession = { id: string; service_id: string; username: string; process: string; command: string; created: string; used_at: string | null; transport: string | null; exit_code: number | null; finished: string | null };

export function execAuditPanel(org: string, serviceId: string): HTMLElement {
  const box = h("div", { class: "exec-audit" });
  void load(box, "Exec sessions", async () => {
    const page = await api.get<{ items: ExecSession[] }>(`/api/v1/orgs/${encodeURIComponent(org)}/exec-sessions?per_page=100`);
    const rows = page.items.filter((s) => s.service_id === serviceId);
    if (!rows.length) return empty("Nobody has opened a shell or run a command in this service's replicas (ancla shell, ancla ssh).");
    return table(
      ["When", "Who", "Process", "Command", "Via", "Exit"],
      rows.map((s) => [
        h("time", { datetime: s.created }, when(s.created)),
        s.username,
        s.process,
        h("code", null, s.command),
        s.transport ?? "token not used",
        s.exit_code === null ? (s.used_at && !s.finished ? "running" : "—") : String(s.exit_code),
      ]),
      "Exec sessions of this service",
    );
  });
  return box;
}
