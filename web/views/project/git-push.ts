// A project's "Deploy on git push" section: the GitHub webhook to add (URL, secret state, a new
// secret shown once), what each delivery did (refused ones included) with redeliver, and the
// preview environments of pull requests with their state and URLs.
import { api, itemsOf, paths } from "../../api";
import { button, empty, h, load, notify, table, when } from "../../dom";

type Settings = { url: string; content_type: string; events: string[]; project_secret_set: boolean; server_secret_set: boolean; secret?: string };
type Delivery = { id: string; event: string; action: string | null; ref: string | null; commit_sha: string | null; status: string; message: string; pipeline_ids: string[]; created: string };
type Preview = { number: number; env: string; status: string; error: string | null; head_sha: string | null; urls: string[]; last_activity: string };
type Previews = { enabled: boolean; source_env: string | null; ttl_hours: number; items: Preview[] };

export function gitPushSection(org: string, project: string, admin: boolean): HTMLElement {
  const base = `${paths.projectH(org, project)}`;
  const hook = h("div");
  const deliveries = h("div");
  const previews = h("div");
  const showDeliveries = () =>
    load(deliveries, "Webhook deliveries", async () => {
      const items = itemsOf<Delivery>(await api.get(`${base}/webhooks/deliveries`));
      if (!items.length) return empty("No deliveries yet. Add the webhook on GitHub; its ping shows up here.");
      return table(
        ["Received", "Event", "Ref", "Commit", "Status", "What happened", ""],
        items.map((d) => [
          when(d.created),
          d.action ? `${d.event}.${d.action}` : d.event,
          d.ref ?? "—",
          d.commit_sha ? h("code", null, d.commit_sha.slice(0, 12)) : "—",
          h("span", { class: d.status === "refused" || d.status === "error" ? "error" : undefined }, d.status),
          d.message,
          d.event === "push" && d.status !== "refused"
            ? button("Redeliver", async () => {
                const r = await api.post<{ delivery: Delivery }>(`${base}/webhooks/deliveries/${encodeURIComponent(d.id)}/redeliver`, {});
                notify(`${r.delivery.status}: ${r.delivery.message}`);
                void showDeliveries();
              })
            : "",
        ]),
        "Webhook deliveries, newest first",
      );
    });
  const showHook = (fresh?: string) =>
    load(hook, "Webhook", async () => {
      const s = await api.get<Settings>(`${base}/webhooks`);
      const secret = fresh
        ? h("p", { role: "status" }, "Secret (shown once, paste it into GitHub now): ", h("code", null, fresh))
        : h("p", null, `Secret: ${s.project_secret_set ? "set for this project" : s.server_secret_set ? "the server's --github-webhook-secret" : "none yet"}`);
      return [
        h("p", null, "Payload URL: ", h("code", null, s.url)),
        h("p", null, `Content type: ${s.content_type} · Events: ${s.events.join(", ")}`),
        secret,
        admin
          ? button(s.project_secret_set ? "Generate a new secret" : "Generate a secret", async () => {
              const r = await api.post<Settings>(`${base}/webhooks/secret`, {});
              void showHook(r.secret);
            })
          : null,
      ];
    });
  void showHook();
  void showDeliveries();
  void load(previews, "Previews", async () => {
    const p = await api.get<Previews>(`${base}/previews`);
    const head = h("p", null, p.enabled ? `Pull requests get an environment pr-<number> cloned from ${p.source_env ?? "the default environment"}, removed when closed or idle for ${p.ttl_hours} h.` : "Previews of pull requests are off.");
    if (!p.items.length) return [head, empty("No preview environments.")];
    return [
      head,
      table(
        ["Pull request", "Environment", "Status", "Commit", "URL", "Last activity"],
        p.items.map((v) => [`#${v.number}`, v.env, v.error ? `${v.status}: ${v.error}` : v.status, v.head_sha ? h("code", null, v.head_sha.slice(0, 12)) : "—", v.urls.length ? h("a", { href: v.urls[0]! }, v.urls[0]!) : "—", when(v.last_activity)]),
        "Preview environments",
      ),
    ];
  });
  return h("div", null, h("h3", null, "GitHub webhook"), hook, h("h3", null, "Deliveries"), deliveries, h("h3", null, "Pull request previews"), previews);
}
