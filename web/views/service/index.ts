// One service: URL, pipeline and logs, releases and rollback, scale, settings, config, metrics.
import { api, paths } from "../../api";
import { button, h, load, section } from "../../dom";
import { links, refresh, type View } from "../../router";
import { configEditor, resolvedConfig } from "../config";
import { observabilityPanel } from "../observability";
import { pipelinePanel } from "./pipeline";
import { domainsPanel } from "./domains";
import { releasesPanel } from "./releases";
import { replicasPanel, type ReplicaView } from "./replicas";
import { scaleForm, settingsForm, type ServiceDetail } from "./settings";

type Info = { domain: string; router_port: number | null };

export const serviceView: View = async ({ params }) => {
  const { org, project, env, service } = params as { org: string; project: string; env: string; service: string };
  const base = paths.service(org, project, env, service);
  const [svc, envDetail, info] = await Promise.all([
    api.get<ServiceDetail & { url?: string; replicas?: ReplicaView[] }>(base),
    api.get<{ is_default?: boolean }>(paths.env(org, project, env)).catch(() => ({ is_default: false })),
    api.get<Info>("/api/v1/dashboard/info").catch(() => null),
  ]);
  const urls = appUrls(svc, { org, project, env, isDefault: Boolean(envDetail.is_default) }, info);
  const resolved = resolvedConfig(`${base}/config/resolved`);
  const releasesBox = h("div", null, releasesPanel(base, () => refresh()));
  // when a pipeline run settles, the release list gains its new release
  const pipeline = pipelinePanel({ org, project, env, svc }, () => releasesBox.replaceChildren(releasesPanel(base, () => refresh())));
  return [
    h(
      "nav",
      { class: "crumbs", "aria-label": "Breadcrumb" },
      h("a", { href: "/" }, "Organizations"), " / ", h("a", { href: links.org(org) }, org), " / ",
      h("a", { href: links.project(org, project) }, project), " / ", h("a", { href: links.env(org, project, env) }, env), " / ", svc.name,
    ),
    h("h1", null, svc.name),
    h("p", { class: "urls" }, "URL: ", urls.links.length ? urls.links.map((u, i) => [i ? ", " : "", h("a", { href: u, target: "_blank", rel: "noopener noreferrer" }, u)]) : urls.hosts.length ? [urls.hosts.map((host, i) => [i ? ", " : "", h("code", null, host)]), " (on the router's port)"] : "unknown until the server reports its router address."),
    section("Pipeline", pipeline),
    section("Replicas", replicasPanel(base, svc)),
    section("Domains and HTTPS", domainsPanel(svc)),
    section("Releases", releasesBox),
    section("App output", appLogs(`${base}/logs?tail=200`)),
    section("Scale", scaleForm(svc, () => refresh())),
    section("Metrics", observabilityPanel(`${paths.projectH(org, project)}/observability/?${paths.qs({ service, env })}`)),
    section(
      "Service config",
      configEditor({ base: `${base}/config`, scope: "service", onChange: () => resolved.reload() }),
      h("h3", null, "Resolved (what the next release gets)"),
      resolved,
    ),
    section("Settings", settingsForm(svc, base, () => refresh())),
  ];
};

function appUrls(svc: ServiceDetail & { url?: string }, c: { org: string; project: string; env: string; isDefault: boolean }, info: Info | null): { links: string[]; hosts: string[] } {
  if (svc.url) return { links: [svc.url], hosts: [] };
  if (!info) return { links: [], hosts: [] };
  const hosts = [c.isDefault ? `${svc.slug}.${c.project}.${c.org}.${info.domain}` : `${svc.slug}.${c.env}.${c.project}.${c.org}.${info.domain}`, ...svc.domains];
  if (info.router_port === null) return { links: [], hosts };
  const port = info.router_port === 80 ? "" : `:${info.router_port}`;
  return { links: hosts.map((host) => `http://${host}${port}/`), hosts };
}

/** The last lines the service's containers printed, on demand (not polled: it can be large). */
function appLogs(path: string): HTMLElement {
  const pre = h("pre", { class: "log", tabindex: "0", "aria-label": "Container output" });
  const box = h("div");
  const show = () => load(box, "App output", async () => {
    const text = await api.text(path);
    pre.textContent = text || "(no output yet)";
    return pre;
  });
  return h("div", null, h("div", { class: "actions" }, button("Show latest output", show, { class: "small" })), box);
}
