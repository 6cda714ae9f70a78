// The server page (server admins): what GET /api/v1/status reports — version, uptime, database,
// Docker, job queue, router — and the backups: the last one and its age, the schedule, the list,
// and "Back up now".
import { api } from "../../api";
import { button, empty, h, load, section, table, when } from "../../dom";
import type { View } from "../../router";
import { currentUser } from "../../session";

type Backup = { file: string; created_at: string; bytes: number };
type Status = {
  version: string;
  pid: number;
  started_at: string;
  uptime_seconds: number;
  reloading: boolean;
  database: { path: string; bytes: number; schema: string | null; migrations: number };
  backups: { last: (Backup & { age_seconds: number }) | null; count: number; every_seconds: number | null; keep: number; dir: string; next_due_at: string | null; last_error: string | null };
  docker: { reachable: boolean; error: string | null };
  queue: { queued: number; running: number };
  router: { listening: boolean; url: string | null; https_port: number | null; hostnames: number; services: number; replicas: number };
};

/** 93784 → "1 d 2 h"; the two largest units are enough to judge an age. */
export function age(seconds: number): string {
  const units: [number, string][] = [[86400, "d"], [3600, "h"], [60, "min"], [1, "s"]];
  const parts: string[] = [];
  let rest = Math.max(0, Math.floor(seconds));
  for (const [size, name] of units) {
    if (rest >= size || (name === "s" && parts.length === 0)) {
      parts.push(`${Math.floor(rest / size)} ${name}`);
      rest %= size;
    }
    if (parts.length === 2) break;
  }
  return parts.join(" ");
}

const bytes = (n: number) => (n < 1024 ? `${n} B` : n < 1024 ** 2 ? `${(n / 1024).toFixed(1)} KiB` : n < 1024 ** 3 ? `${(n / 1024 ** 2).toFixed(1)} MiB` : `${(n / 1024 ** 3).toFixed(2)} GiB`);
const dl = (rows: [string, unknown][]) => h("dl", { class: "facts" }, rows.flatMap(([k, v]) => [h("dt", null, k), h("dd", null, String(v))]));

function lastBackup(s: Status): HTMLElement {
  const b = s.backups.last;
  const stale = b && s.backups.every_seconds !== null && b.age_seconds > s.backups.every_seconds * 1.5;
  return h(
    "p",
    { class: stale || s.backups.last_error ? "error" : undefined, "data-testid": "last-backup" },
    b ? `Last backup ${age(b.age_seconds)} ago (${when(b.created_at)}, ${bytes(b.bytes)})` : "No backup yet",
    s.backups.every_seconds === null ? " · no backup schedule (start the server with --backup-every 24h)" : ` · every ${age(s.backups.every_seconds)}, keeping ${s.backups.keep}`,
    s.backups.last_error ? ` · the last scheduled backup failed: ${s.backups.last_error}` : null,
  );
}

export const serverView: View = () => {
  if (!currentUser()?.admin) return [h("h1", null, "Server"), h("p", { class: "error" }, "Only server administrators can see the server's status.")];
  const body = h("div");
  const show = () =>
    load(body, "Server status", async () => {
      const [s, list] = await Promise.all([api.get<Status>("/api/v1/status"), api.get<{ items: Backup[] }>("/api/v1/admin/backups")]);
      return [
        section(
          "Backups",
          lastBackup(s),
          button("Back up now", async () => {
            await api.post("/api/v1/admin/backups", {});
            await show();
          }),
          list.items.length ? table(["Created", "Size", "File"], list.items.map((b) => [when(b.created_at), bytes(b.bytes), h("code", null, b.file)])) : empty(`No backups in ${s.backups.dir}.`),
        ),
        section(
          "Status",
          dl([
            ["Version", s.version],
            ["Process", `pid ${s.pid}${s.reloading ? " (reloading)" : ""}`],
            ["Up for", age(s.uptime_seconds)],
            ["Database", `${bytes(s.database.bytes)} · schema ${s.database.schema ?? "—"} (${s.database.migrations} migrations)`],
            ["Docker", s.docker.reachable ? "reachable" : `unreachable: ${s.docker.error ?? "no answer"}`],
            ["Job queue", `${s.queue.running} running, ${s.queue.queued} queued`],
            ["Router", s.router.listening ? `${s.router.url}${s.router.https_port ? ` + HTTPS :${s.router.https_port}` : ""} · ${s.router.services} services, ${s.router.replicas} replicas, ${s.router.hostnames} hostnames` : "not listening"],
          ]),
        ),
      ];
    });
  void show();
  return [h("h1", null, "Server"), body];
};
