// One organization: its projects, members and teams with their members (admin actions), and organization config.
import { api, itemsOf, paths } from "../../api";
import { button, checkbox, empty, field, form, h, load, notify, section, select, table } from "../../dom";
import { links, navigate, type View } from "../../router";
import { currentUser } from "../../session";
import { configEditor } from "../config";
import { dangerZone, renameForm } from "../danger";

import type { Member, OrgDetail, ProjectSummary as Project, Team, TeamDetail } from "../../types";

const teamSummary = (t: Team) => `${t.name} (${t.slug}) · ${t.member_count} member${t.member_count === 1 ? "" : "s"} · ${t.project_count} project${t.project_count === 1 ? "" : "s"}`;

/**
 * One team's members, redrawn in place after each change: a table (Remove for org admins) and,
 * for org admins, a form adding a member of the organization who is not on the team yet.
 */
function teamMembers(org: string, team: Team, orgMembers: () => Promise<Member[]>, isAdmin: boolean, summary: HTMLElement): HTMLElement {
  const box = h("div", { class: "team-members" });
  const base = `${paths.orgH(org)}/teams/${encodeURIComponent(team.slug)}`;
  const show = (): Promise<void> =>
    load(box, `Members of ${team.name}`, async () => {
      const [d, all] = await Promise.all([api.get<TeamDetail>(base), isAdmin ? orgMembers() : Promise.resolve([])]);
      summary.textContent = teamSummary(d);
      const list = d.members.length
        ? table(
            isAdmin ? ["Member", "Email", ""] : ["Member", "Email"],
            d.members.map((m) => [
              m.username,
              m.email,
              ...(isAdmin
                ? [
                    button("Remove", async () => {
                      await api.del(`${base}/members/${encodeURIComponent(m.user_id)}`);
                      notify(`${m.username} removed from team ${team.name}.`);
                      await show();
                    }, { class: "small danger", "aria-label": `Remove ${m.username} from team ${team.name}` }),
                  ]
                : []),
            ]),
            `Members of team ${team.name}`,
          )
        : empty("No members yet.");
      if (!isAdmin) return list;
      const candidates = all.filter((m) => !d.members.some((x) => x.user_id === m.user_id));
      const add = candidates.length
        ? form(
            {
              label: `Add a member to team ${team.name}`,
              submit: "Add to team",
              onSubmit: async (v) => {
                const who = candidates.find((m) => m.user_id === v.username)?.username ?? String(v.username);
                await api.post(`${base}/members`, { username: v.username });
                notify(`${who} added to team ${team.name}.`);
                await show();
              },
            },
            select("Member of the organization", "username", candidates.map((m) => [m.user_id, m.username])),
          )
        : h("p", { class: "hint" }, "Every member of the organization is on this team.");
      return [list, add];
    });
  void show();
  return box;
}

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
                  notify(`${m.username} removed (and from the organization's teams).`);
                  await Promise.all([showMembers(), showTeams()]);
                }, { class: "small danger", "aria-label": `Remove ${m.username}` }),
              )
            : null,
        ]),
      );
    });
  void showMembers();

  const teams = h("div");
  const orgMembers = async () => (await api.get<OrgDetail>(paths.org(slug))).members;
  const showTeams = () =>
    load(teams, "Teams", async () => {
      const list = itemsOf<Team>(await api.get(`${paths.orgH(slug)}/teams`));
      if (!list.length) return empty("No teams yet.");
      return h(
        "ul",
        { class: "plain" },
        list.map((t) => {
          const summary = h("summary", null, teamSummary(t));
          return h(
            "li",
            null,
            h(
              "details",
              null,
              summary,
              h("h3", null, "Members"),
              teamMembers(slug, t, orgMembers, isAdmin, summary),
              h("p", { class: "hint" }, "A project joins a team in its Settings; the team's config then applies to the project's services."),
              h("h3", null, "Team config"),
              configEditor({ base: `${paths.orgH(slug)}/teams/${encodeURIComponent(t.slug)}/config`, scope: "team" }),
            ),
          );
        }),
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
                notify(`${String(v.username)} added to ${org.name}.`);
                f.reset();
                await Promise.all([showMembers(), showTeams()]);
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
                const team = await api.post<Team>(`${paths.orgH(slug)}/teams`, { name: v.name, slug: v.slug || undefined });
                notify(`Team ${team.name} created.`);
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
    isAdmin ? section("Rename", renameForm({ what: "organization", name: org.name, slug: org.slug, path: paths.org(slug), after: "/", renamed: (name) => (title.textContent = org.name = name) })) : null,
    isAdmin ? dangerZone({ what: "organization", get name() { return org.name; }, slug: org.slug, path: paths.org(slug), after: "/", consequence: "it must have no projects left" }) : null,
  ];
};
