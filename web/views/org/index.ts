// One organization: its projects, members and teams (admin actions), and organization config.
import { api, itemsOf, paths } from "../../api";
import { button, checkbox, empty, field, form, h, load, notify, section, table } from "../../dom";
import { links, navigate, type View } from "../../router";
import { currentUser } from "../../session";
import { configEditor } from "../config";
import { dangerZone, renameForm } from "../danger";

type Member = { user_id: string; username: string; email: string | null; admin: boolean };
type OrgDetail = { id: string; name: string; slug: string; members: Member[]; project_count: number; application_count: number };
type Project = { id: string; name: string; slug: string; application_count: number; created: string | null };
type Team = { id: string; name: string; slug: string };

export const orgView: View = async ({ params }) => {
  const slug = params.org!;
  const org = await api.get<OrgDetail>(paths.org(slug));
  const me = currentUser();
  const isAdmin = Boolean(me?.admin || org.members.some((m) => m.user_id === me?.id && m.admin));
  const title = h("h1", null, org.name);

  const projects = h("div");
  void load(projects, "Projects", async () => {
    const list = itemsOf<Project>(await api.get(`/api/v1/projects?${paths.qs({ org: slug })}`));
    if (!list.length) return empty("No projects yet. Create the first one below.");
    return table(["Project", "Slug", "Services"], list.map((p) => [h("a", { href: links.project(slug, p.slug) }, p.name), p.slug, p.application_count]));
  });

  const members = h("div");
  const showMembers = () =>
    load(members, "Members", async () => {
      const detail = await api.get<OrgDetail>(paths.org(slug));
      return table(
        ["User", "Email", "Role", ""],
        detail.members.map((m) => [
          m.username,
          m.email ?? "—",
          m.admin ? "admin" : "member",
          isAdmin
            ? h(
                "span",
                { class: "row-actions" },
                button(m.admin ? "Make member" : "Make admin", async () => {
                  await api.post(`${paths.org(slug)}/members/${m.user_id}/toggle-admin`);
                  notify(`${m.username} is now ${m.admin ? "a member" : "an admin"}.`);
                  await showMembers();
                }, { class: "small", "aria-label": `${m.admin ? "Make member" : "Make admin"}: ${m.username}` }),
                button("Remove", async () => {
                  if (!confirm(`Remove ${m.username} from ${org.name}?`)) return;
                  await api.del(`${paths.org(slug)}/members/${m.user_id}`);
                  notify(`${m.username} removed.`);
                  await showMembers();
                }, { class: "small danger", "aria-label": `Remove ${m.username}` }),
              )
            : null,
        ]),
      );
    });
  void showMembers();

  const teams = h("div");
  const showTeams = () =>
    load(teams, "Teams", async () => {
      const list = itemsOf<Team>(await api.get(`${paths.orgH(slug)}/teams`));
      if (!list.length) return empty("No teams yet.");
      return h(
        "ul",
        { class: "plain" },
        list.map((t) =>
          h("li", null, h("details", null, h("summary", null, `${t.name} (${t.slug})`), configEditor({ base: `${paths.orgH(slug)}/teams/${encodeURIComponent(t.slug)}/config`, scope: "team" }))),
        ),
      );
    });
  void showTeams();

  return [
    h("nav", { class: "crumbs", "aria-label": "Breadcrumb" }, h("a", { href: "/" }, "Organizations"), " / ", org.name),
    title,
    section(
      "Projects",
      projects,
      h(
        "details",
        null,
        h("summary", null, "Create a project"),
        form(
          {
            label: "Create a project",
            submit: "Create project",
            onSubmit: async (v) => {
              const p = await api.post<Project>(paths.projects(slug), { name: v.name, slug: v.slug || undefined });
              navigate(links.project(slug, p.slug));
            },
          },
          field("Name", "name", { required: true }),
          field("Slug (optional)", "slug"),
        ),
      ),
    ),
    section(
      "Members",
      members,
      isAdmin
        ? form(
            {
              label: "Add a member",
              submit: "Add member",
              onSubmit: async (v, f) => {
                await api.post(`${paths.org(slug)}/members`, { username: v.username, admin: v.admin === true });
                f.reset();
                await showMembers();
              },
            },
            field("Username", "username", { required: true }),
            checkbox("Organization admin", "admin"),
          )
        : h("p", { class: "hint" }, "Only organization admins can change members."),
    ),
    section(
      "Teams",
      teams,
      isAdmin
        ? form(
            {
              label: "Create a team",
              submit: "Create team",
              onSubmit: async (v, f) => {
                await api.post(`${paths.orgH(slug)}/teams`, { name: v.name, slug: v.slug || undefined });
                f.reset();
                await showTeams();
              },
            },
            field("Team name", "name", { required: true }),
            field("Team slug (optional)", "slug"),
          )
        : null,
    ),
    section("Organization config", configEditor({ base: `${paths.orgH(slug)}/config`, scope: "organization" })),
    isAdmin ? section("Rename", renameForm({ what: "organization", name: org.name, slug: org.slug, path: paths.org(slug), after: "/", renamed: (name) => (title.textContent = name) })) : null,
    isAdmin ? dangerZone({ what: "organization", name: org.name, slug: org.slug, path: paths.org(slug), after: "/", consequence: "it must have no projects left" }) : null,
  ];
};
