// One environment: its services (create) and environment-level config with .env import.
import { api, itemsOf, paths } from "../../api";
import { empty, field, form, h, load, section, table, when } from "../../dom";
import { links, navigate, type View } from "../../router";
import { configEditor } from "../config";

type Deployment = { id: string; application_id: string; version: number; kind: string; status: string; release: { version?: number }; error_detail: string | null; created: string | null };
type Summary = { id: string; name: string; slug: string; latest_release_version: number | null; latest_deployment_complete: boolean | null };

export const envView: View = async ({ params }) => {
  const { org, project, env } = params as { org: string; project: string; env: string };
  const base = paths.env(org, project, env);
  const detail = await api.get<{ name: string; env_type: string; protected: boolean }>(base);
  const list = h("div");
  const deployments = h("div");
  void load(list, "Services", async () => {
    const services = itemsOf<Summary>(await api.get(`${base}/services`));
    void load(deployments, "Deployments", () => recentDeployments(base, services));
    if (!services.length) return empty("No services in this environment yet. Create one below.");
    return table(
      ["Service", "Slug", "Release", "Deployed"],
      services.map((s) => [
        h("a", { href: links.service(org, project, env, s.slug) }, s.name),
        s.slug,
        s.latest_release_version ? `v${s.latest_release_version}` : "—",
        s.latest_deployment_complete === null ? "never" : s.latest_deployment_complete ? "yes" : "no",
      ]),
    );
  });
  return [
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "/" }, "Organizations"), " / ", h("a", { href: links.org(org) }, org), " / ", h("a", { href: links.project(org, project) }, project), " / ", detail.name),
    h("h1", null, `${detail.name} `, h("span", { class: "tag" }, detail.env_type), detail.protected ? h("span", { class: "tag warn" }, "protected") : null),
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
              const s = await api.post<Summary>(`${base}/services`, body);
              navigate(links.service(org, project, env, s.slug));
            },
          },
          field("Name", "name", { required: true }),
          field("Slug (optional)", "slug"),
          field("Image (optional, deploy a pre-built image)", "image", { placeholder: "registry/name:tag" }),
          field("Git URL (optional)", "git_url", { placeholder: "https://git.example.com/team/app.git" }),
          field("Container port", "port", { type: "number", placeholder: "8000", min: 1, max: 65535 }),
        ),
      ),
    ),
    section("Recent deployments", deployments),
    section("Environment config", configEditor({ base: `${base}/config`, scope: "environment", bulk: `${base}/config/bulk` })),
  ];
};

async function recentDeployments(base: string, services: Summary[]): Promise<HTMLElement> {
  const list = itemsOf<Deployment>(await api.get(`${base}/deployments`)).slice(0, 20);
  if (!list.length) return empty("Nothing deployed to this environment yet.");
  const name = new Map(services.map((s) => [s.id, s.name]));
  return table(
    ["Service", "Deployment", "Release", "Kind", "Status", "Started"],
    list.map((d) => [name.get(d.application_id) ?? "—", `#${d.version}`, d.release?.version ? `v${d.release.version}` : "—", d.kind, d.error_detail ? `${d.status}: ${d.error_detail}` : d.status, when(d.created)]),
  );
}
