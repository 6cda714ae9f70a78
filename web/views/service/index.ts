// One service: a status header that follows the service live, and tabs (each a deep link):
// Overview · Deployments · Logs · Environment · Scaling · Settings. Switching tabs swaps the
// panel in place; the header and the live state stay.
import { api, paths } from "../../api";
import { h, replace, section, tabs } from "../../dom";
import { links, type View } from "../../router";
import { orgRole } from "../../session";
import { configEditor, resolvedConfig } from "../config";
import { dangerZone, renameForm } from "../danger";
import { observabilityPanel } from "../observability";
import { statusHeader } from "./header";
import { historyPanel } from "./history";
import { logsPanel } from "./logs";
import { pipelinePanel } from "./pipeline";
import { domainsPanel } from "./domains";
import { replicasPanel } from "./replicas";
import { scalingPanel } from "./scaling";
import { settingsForm } from "./settings";
import { volumesPanel } from "./volumes";
import { execAuditPanel } from "./exec-audit";
import { follow, loadActivity, statusPath, type Ctx, type Detail, type Live, type Status } from "./state";

const TABS = [
  ["overview", "Overview"],
  ["deployments", "Deployments"],
  ["logs", "Logs"],
  ["environment", "Environment"],
  ["scaling", "Scaling"],
  ["settings", "Settings"],
] as const;
type Tab = (typeof TABS)[number][0];

type Info = { domain: string; router_port: number | null };

export const serviceView: View = async ({ params }) => {
  const { org, project, env, service } = params as { org: string; project: string; env: string; service: string };
  const tab = (TABS.some(([k]) => k === params.tab) ? params.tab : "overview") as Tab;
  const base = paths.service(org, project, env, service);
  const [detail, envDetail, info, role] = await Promise.all([
    api.get<Detail>(base),
    api.get<{ is_default?: boolean; protected?: boolean; name?: string }>(paths.env(org, project, env)).catch(() => ({ is_default: false, protected: false, name: env })),
    api.get<Info>("/api/v1/dashboard/info").catch(() => null),
    orgRole(org),
  ]);
  const ctx: Ctx = { org, project, env, service, base, admin: role.admin, protectedEnv: Boolean(envDetail.protected) };
  const [status, activity] = await Promise.all([api.get<Status>(statusPath(ctx)).catch(() => null), loadActivity(ctx)]);
  const page = h("div", { class: "service-page" });
  const live = follow(ctx, { detail, status, activity }, () => page.isConnected);

  const panel = h("div", { class: "tab-panel", role: "region", "aria-label": "" });
  const nav = h("div");
  const href = (t: Tab) => links.service(org, project, env, service) + (t === "overview" ? "" : `/${t}`);
  const show = (t: Tab) => {
    replace(nav, tabs("Service sections", TABS.map(([key, text]) => ({ key, text, href: href(key) })), t));
    panel.setAttribute("aria-label", TABS.find(([k]) => k === t)![1]);
    live.newScope();
    replace(panel, tabContent(t, live));
    document.title = `${TABS.find(([k]) => k === t)![1]} · ${service} · ${env} · Ancla`;
  };
  // tab links change the URL and the panel only (the router would rebuild the whole page)
  nav.addEventListener("click", (ev) => {
    const a = (ev.target as Element).closest("a");
    if (!a || ev.button !== 0 || ev.metaKey || ev.ctrlKey || ev.shiftKey || ev.altKey) return;
    ev.preventDefault();
    const t = TABS.find(([k]) => href(k) === a.getAttribute("href"))?.[0] ?? "overview";
    history.pushState(null, "", a.getAttribute("href")!);
    show(t);
    panel.focus({ preventScroll: true });
  });
  panel.tabIndex = -1;
  const header = statusHeader(live, { isDefault: Boolean(envDetail.is_default), info, onAction: () => void live.poke() });
  live.pin(); // the header's subscription stays for the page's life
  show(tab);

  replace(
    page,
    h(
      "nav",
      { class: "crumbs", "aria-label": "Breadcrumb" },
      h("a", { href: "/" }, "Organizations"), " / ", h("a", { href: links.org(org) }, org), " / ",
      h("a", { href: links.project(org, project) }, project), " / ", h("a", { href: links.env(org, project, env) }, env), " / ", detail.name,
    ),
    header,
    nav,
    panel,
  );
  return page;
};

function tabContent(t: Tab, live: Live): HTMLElement | HTMLElement[] {
  const c = live.ctx;
  const d = live.detail;
  switch (t) {
    case "overview":
      return [
        firstDeployHint(live),
        section("Pipeline", pipelinePanel(live)),
        section("Replicas", replicasPanel(live)),
        section("Domains and HTTPS", domainsPanel(live.detail)),
        section("Metrics", observabilityPanel(`${paths.projectH(c.org, c.project)}/observability/?${paths.qs({ service: c.service, env: c.env })}`, { running: () => (live.detail.replicas ?? []).filter((r) => r.state === "running").length })),
      ].filter((x): x is HTMLElement => Boolean(x));
    case "deployments":
      return section("Deployment history", historyPanel(live));
    case "logs":
      return section("App output", logsPanel(`${c.base}/logs`));
    case "environment": {
      const resolved = resolvedConfig(`${c.base}/config/resolved`);
      return section(
        "Service config",
        h("p", { class: "hint" }, "Config changes apply at the next release: use Deploy → Deploy current image with new config."),
        configEditor({ base: `${c.base}/config`, scope: "service", onChange: () => resolved.reload() }),
        h("h3", null, "Resolved (what the next release gets)"),
        resolved,
      );
    }
    case "scaling":
      return section("Scale", scalingPanel(live));
    case "settings":
      return [
        section("Settings", settingsForm(d, c.base, (s) => (live.detail = { ...live.detail, ...s }))),
        section("Volumes", volumesPanel(c.base, !c.protectedEnv || c.admin)),
        ...(c.admin ? [section("Exec sessions", execAuditPanel(c.org, d.id))] : []),
        section("Name", renameForm({ what: "service", name: d.name, slug: d.slug, path: c.base, after: "", renamed: (name) => void ((live.detail = { ...live.detail, name }), live.poke()) })),
        dangerZone({
          what: "service",
          name: d.name,
          slug: d.slug,
          path: c.base,
          after: links.env(c.org, c.project, c.env),
          consequence: "its replicas are stopped and removed, with its releases and history",
          canDelete: c.admin,
        }),
      ];
  }
}

/** A service that never deployed says how to get there. */
function firstDeployHint(live: Live): HTMLElement | null {
  const started = () => Boolean(live.activity?.items.length || live.status?.build || live.status?.deploy);
  if (started()) return null;
  const c = live.ctx;
  const target = `${c.org}/${c.project}/${c.env}/${c.service}`;
  const box = h(
    "aside",
    { class: "hint-box", "aria-label": "First deploy" },
    h("strong", null, "Not deployed yet. "),
    "From your app's directory run ",
    h("code", null, `ancla link ${target}`),
    " then ",
    h("code", null, "ancla deploy"),
    ", or set a Git URL (or an image) under ",
    h("a", { href: links.service(c.org, c.project, c.env, c.service) + "/settings" }, "Settings"),
    " and use Deploy → Rebuild and deploy. Your app must listen on ",
    h("code", null, "$PORT"),
    ` (${live.detail.port}) and answer `,
    h("code", null, live.detail.health_check_path),
    " with 2xx or 3xx.",
  );
  // the first run (from the CLI, say) replaces the hint with its progress
  const off = live.subscribe(() => started() && (box.remove(), off()));
  return box;
}

