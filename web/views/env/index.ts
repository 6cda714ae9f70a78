// One environment: its services (create) and environment-level config with .env import.
import { api, itemsOf, paths } from "../../api";
import { checkbox, empty, field, form, h, load, notify, section, select, table, when } from "../../dom";
import { links, navigate, type View } from "../../router";
import { orgRole } from "../../session";
import { configEditor } from "../config";
import { dangerZone } from "../danger";
import { targetSection, type EnvTarget } from "./target";

const ENV_TYPES: [string, string][] = ["production", "staging", "development", "preview"].map((t) => [t, t]);

type Deployment = { id: string; application_id: string; version: number; kind: string; status: string; release: { version?: number }; error_detail: string | null; created: string | null };
import type { ApplicationSummary as Summary } from "../../types";

export const envView: View = async ({ params }) => {
  const { org, project, env } = params as { org: string; project: string; env: string };
  const base = paths.env(org, project, env);
  const [detail, role] = await Promise.all([api.get<{ name: string; slug: string; env_type: string; protected: boolean; is_default?: boolean; auto_deploy_branch?: string | null } & EnvTarget>(base), orgRole(org)]);
  const list = h("div");
  const deployments = h("div");
  const title = h("h1");
  const drawTitle = (d: typeof detail) => title.replaceChildren(`${d.name} `, h("span", { class: "tag" }, d.env_type), d.protected ? h("span", { class: "tag warn" }, "protected") : "");
  drawTitle(detail);
  void load(list, "Services", async () => {
    const [services, recent] = await Promise.all([api.get(`${base}/services`).then((x) => itemsOf<Summary>(x)), api.get(`${base}/deployments`).then((x) => itemsOf<Deployment>(x)).catch(() => [] as Deployment[])]);
    void load(deployments, "Deployments", async () => recentDeployments(recent, services));
    if (!services.length) return empty("No services in this environment yet. Create one below.");
    // the serving release is the latest complete deployment's, not the newest release
    const serving = (id: string) => recent.find((d) => d.application_id === id && d.status === "complete")?.release?.version;
    return table(
      ["Service", "Slug", "Serving", "Newest release", "Last deploy"],
      services.map((s) => {
        const live = serving(s.id);
        return [
          h("a", { href: links.service(org, project, env, s.slug) }, s.name),
          s.slug,
          live ? `v${live}` : s.latest_deployment_complete ? "—" : "nothing",
          s.latest_release_version ? `v${s.latest_release_version}` : "—",
          s.latest_deployment_complete === null ? "never" : s.latest_deployment_complete ? "complete" : "failed or running",
        ];
      }),
    );
  });
  return [
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "/" }, "Organizations"), " / ", h("a", { href: links.org(org) }, org), " / ", h("a", { href: links.project(org, project) }, project), " / ", detail.name),
    title,
    section(
      "Services",
      list,
      h(
        "details",
        null,
        h("summary", null, "Create a service"),
        form(
          {
            label: "Create a service",
            submit: "Create service",
            onSubmit: async (v) => {
              const body: Record<string, unknown> = { name: v.name };
              if (v.slug) body.slug = v.slug;
              if (v.image) body.image = v.image;
              if (v.git_url) body.git_url = v.git_url;
              if (v.port) body.port = Number(v.port);
              if (v.health_check_path) body.health_check_path = v.health_check_path;
              const s = await api.post<Summary>(`${base}/services`, body);
              navigate(links.service(org, project, env, s.slug));
            },
          },
          field("Name", "name", { required: true }),
          field("Slug (optional)", "slug"),
          field("Image (optional, deploy a pre-built image)", "image", { placeholder: "registry/name:tag" }),
          field("Git URL (optional)", "git_url", { placeholder: "https://git.example.com/team/app.git" }),
          field("Container port", "port", { type: "number", placeholder: "8000", min: 1, max: 65535, hint: "Your app listens on $PORT; this sets it (default 8000)." }),
          field("Health check path", "health_check_path", { placeholder: "/_health/", hint: "Web replicas must answer it with 2xx or 3xx before they get traffic (default /_health/)." }),
        ),
      ),
    ),
    section("Recent deployments", deployments),
    section("Environment config", configEditor({ base: `${base}/config`, scope: "environment", bulk: `${base}/config/bulk` })),
    section("Target", targetSection(base, detail, role.admin)),
    role.admin ? section("Environment settings", envSettings(base, detail, (d) => drawTitle(Object.assign(detail, d)))) : null,
    role.admin
      ? dangerZone({
          what: "environment",
          // read at delete time: a rename in the settings above changes it
          get name() {
            return detail.name;
          },
          slug: detail.slug ?? env,
          path: base,
          after: links.project(org, project),
          consequence: "its services are torn down with their releases and config",
          canDelete: !detail.is_default,
          refusal: "The project's default environment cannot be deleted.",
        })
      : null,
  ];
};

type EnvEdit = { name: string; env_type: string; protected: boolean; auto_deploy_branch?: string | null };

function envSettings(base: string, d: EnvEdit, saved: (d: EnvEdit) => void): HTMLElement {
  const done = h("p", { class: "ok", role: "status" });
  return h(
    "div",
    null,
    form(
      {
        label: "Environment settings",
        submit: "Save environment",
        onSubmit: async (v) => {
          done.textContent = "";
          const updated = await api.patch<EnvEdit>(base, { name: v.name, env_type: v.env_type, protected: v.protected === true });
          done.textContent = "Environment saved.";
          notify("Environment saved.");
          saved(updated);
        },
      },
      field("Name", "name", { value: d.name, required: true }),
      select("Type", "env_type", ENV_TYPES, d.env_type),
      checkbox("Protected (only organization admins deploy, roll back or promote)", "protected", d.protected),
    ),
    done,
  );
}

function recentDeployments(all: Deployment[], services: Summary[]): HTMLElement {
  const list = all.slice(0, 20);
  if (!list.length) return empty("Nothing deployed to this environment yet.");
  const name = new Map(services.map((s) => [s.id, s.name]));
  return table(
    ["Service", "Deployment", "Release", "Kind", "Status", "Started"],
    list.map((d) => [name.get(d.application_id) ?? "—", `#${d.version}`, d.release?.version ? `v${d.release.version}` : "—", d.kind, d.error_detail ? `${d.status}: ${d.error_detail}` : d.status, when(d.created)]),
  );
}
