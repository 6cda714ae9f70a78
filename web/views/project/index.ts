// One project: environments (create, promote between them) and project-level config.
import { api, itemsOf, paths } from "../../api";
import { button, checkbox, empty, field, form, h, load, notify, replace, section, select, table } from "../../dom";
import { links, navigate, type View } from "../../router";
import { orgRole } from "../../session";
import { configEditor } from "../config";
import { dangerZone } from "../danger";
import { gitPushSection } from "./git-push";

import type { EnvResponse as Env } from "../../types";
type Preview = {
  source_release_version?: number | null;
  added?: string[];
  removed?: string[];
  changed?: string[];
  unchanged?: number;
  target_exists?: boolean;
  image?: { ref?: string; version?: number | null };
};
type Promotion = { id: string; status: "pending" | "deploying" | "complete" | "error"; error_detail?: string | null; target_release_version?: number | null };

const ENV_TYPES: [string, string][] = ["production", "staging", "development", "preview"].map((t) => [t, t]);

export const projectView: View = async ({ params }) => {
  const { org, project } = params as { org: string; project: string };
  const [detail, role] = await Promise.all([api.get<{ name: string; slug: string; team_slug?: string | null; organization_name?: string }>(paths.project(org, project)), orgRole(org)]);
  const title = h("h1", null, detail.name);
  const envBox = h("div");
  const promoteBox = h("div");
  void load(envBox, "Environments", async () => {
    const envs = itemsOf<Env>(await api.get(`${paths.projectH(org, project)}/envs`));
    void load(promoteBox, "Promotion", () => promotion(org, project, envs));
    if (!envs.length) return empty("No environments.");
    return table(
      ["Environment", "Type", "Target", "Protected", "Services"],
      envs.map((e) => [h("a", { href: links.env(org, project, e.slug) }, e.name), e.env_type + (e.is_default ? " (default)" : ""), e.target ?? "docker", e.protected ? "yes" : "no", e.service_count ?? "—"]),
    );
  });
  return [
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "/" }, "Organizations"), " / ", h("a", { href: links.org(org) }, org), " / ", detail.name),
    title,
    section(
      "Environments",
      envBox,
      h(
        "details",
        null,
        h("summary", null, "Create an environment"),
        form(
          {
            label: "Create an environment",
            submit: "Create environment",
            onSubmit: async (v) => {
              const env = await api.post<Env>(`${paths.projectH(org, project)}/envs`, { name: v.name, slug: v.slug || undefined, env_type: v.env_type, protected: v.protected === true });
              navigate(links.env(org, project, env.slug));
            },
          },
          field("Name", "name", { required: true }),
          field("Slug (optional)", "slug"),
          select("Type", "env_type", ENV_TYPES, "staging"),
          checkbox("Protected (only org admins deploy)", "protected"),
        ),
      ),
    ),
    section("Promote between environments", promoteBox),
    section("Deploy on git push", gitPushSection(org, project, role.admin)),
    section("Project config", configEditor({ base: `${paths.projectH(org, project)}/config`, scope: "project" })),
    role.admin ? section("Project settings", projectSettings(org, project, detail, (name) => (title.textContent = detail.name = name))) : null,
    role.admin
      ? dangerZone({ what: "project", get name() { return detail.name; }, slug: detail.slug ?? project, path: paths.project(org, project), after: links.org(org), consequence: "its environments, services and config are deleted with it" })
      : null,
  ];
};

/** Name and team: a project's team brings the team's config into every service of the project. */
function projectSettings(org: string, project: string, d: { name: string; team_slug?: string | null }, renamed: (name: string) => void): HTMLElement {
  const box = h("div");
  void load(box, "Teams", async () => {
    const teams = itemsOf<{ slug: string; name: string }>(await api.get(`${paths.orgH(org)}/teams`));
    const done = h("p", { class: "ok", role: "status" });
    return [
      form(
        {
          label: "Project settings",
          submit: "Save project",
          onSubmit: async (v) => {
            done.textContent = "";
            const updated = await api.patch<{ name: string; team_slug?: string | null }>(paths.project(org, project), { name: v.name, team: v.team ? v.team : null });
            renamed(updated.name);
            done.textContent = "Project saved.";
            notify("Project saved.");
          },
        },
        field("Name", "name", { value: d.name, required: true }),
        select("Team", "team", [["", "No team"], ...teams.map((t) => [t.slug, t.name] as [string, string])], d.team_slug ?? ""),
        h("p", { class: "hint" }, "The team's config applies to every service of the project (organization < team < project < environment < service)."),
      ),
      done,
    ];
  });
  return box;
}

async function promotion(org: string, project: string, envs: Env[]): Promise<HTMLElement> {
  if (envs.length < 2) return empty("Create a second environment to promote releases between them.");
  const services = new Set<string>();
  for (const e of envs) {
    try {
      for (const s of itemsOf<{ slug: string }>(await api.get(`${paths.env(org, project, e.slug)}/services`))) services.add(s.slug);
    } catch {
      /* an environment whose services cannot be listed simply adds none */
    }
  }
  if (!services.size) return empty("No services to promote yet.");
  const base = `${paths.projectH(org, project)}/promote`;
  const out = h("div", { "aria-live": "polite" });
  const envOptions = envs.map((e) => [e.slug, e.name] as [string, string]);
  return h(
    "div",
    null,
    form(
      {
        label: "Preview a promotion",
        submit: "Preview",
        onSubmit: async (v) => {
          const q = { service: String(v.service), source_env: String(v.source_env), target_env: String(v.target_env) };
          const preview = await api.get<Preview>(`${base}/preview?${paths.qs(q)}`);
          replace(
            out,
            previewDiff(preview, q),
            button(`Promote to ${q.target_env}`, async () => {
              const started = await api.post<Promotion>(base, q);
              await followPromotion(`${paths.projectH(org, project)}/promotions/${started.id}`, started, out);
            }, { class: "primary" }),
          );
        },
      },
      select("Service", "service", [...services].map((s) => [s, s])),
      select("From", "source_env", envOptions, envs.find((e) => e.env_type === "staging")?.slug ?? envs[1]!.slug),
      select("To", "target_env", envOptions, envs.find((e) => e.is_default)?.slug ?? envs[0]!.slug),
    ),
    out,
  );
}

function previewDiff(p: Preview, q: { source_env: string; target_env: string }): HTMLElement {
  const list = (label: string, names?: string[]) => (names?.length ? h("li", null, `${label}: `, names.map((n, i) => [i ? ", " : "", h("code", null, n)])) : null);
  const none = !p.added?.length && !p.removed?.length && !p.changed?.length;
  return h(
    "div",
    { class: "preview", "aria-live": "polite" },
    h(
      "p",
      null,
      `Release v${p.source_release_version ?? "?"} of ${q.source_env}`,
      p.image?.version ? ` (image v${p.image.version})` : "",
      ` goes to ${q.target_env} with the same image and ${q.target_env}'s config.`,
      p.target_exists === false ? " The service does not exist there yet; it will be created with the same settings." : "",
    ),
    h("p", null, h("strong", null, "Config differences (names only):")),
    none ? h("p", null, "None.") : h("ul", null, list("Added", p.added), list("Removed", p.removed), list("Changed", p.changed)),
    typeof p.unchanged === "number" ? h("p", { class: "hint" }, `${p.unchanged} unchanged.`) : null,
  );
}

/** Poll a promotion until it completes or fails, showing its status. */
async function followPromotion(path: string, first: Promotion, out: HTMLElement): Promise<void> {
  const status = h("p", { role: "status" });
  replace(out, status);
  let p = first;
  for (let i = 0; i < 400 && status.isConnected; i++) {
    status.textContent = p.status === "complete" ? `Promotion complete${p.target_release_version ? `: release v${p.target_release_version} is live` : ""}.` : p.status === "error" ? `Promotion failed: ${p.error_detail ?? "see the deploy log"}` : `Promotion ${p.status}…`;
    status.className = p.status === "error" ? "error" : p.status === "complete" ? "ok" : "";
    if (p.status === "complete" || p.status === "error") return;
    await new Promise((r) => setTimeout(r, 1500));
    p = await api.get<Promotion>(path);
  }
}
