// Server users (server admins only): list, create, activate/deactivate, grant admin.
import { api, type User } from "../../api";
import { button, checkbox, empty, field, form, h, load, notify, select, table, when } from "../../dom";
import type { View } from "../../router";
import { currentUser } from "../../session";

type Page = { items: User[]; pagination: { page: number; total_pages: number; total: number } };

export const usersView: View = ({ query }) => {
  if (!currentUser()?.admin) return [h("h1", null, "Users"), h("p", { class: "error" }, "Only server administrators can manage users.")];
  const page = Math.max(1, Number(query.get("page")) || 1);
  const list = h("div");
  const reset = h("div");
  const show = () =>
    load(list, "Users", async () => {
      const r = await api.get<Page>(`/api/v1/admin/users?page=${page}&per_page=50`);
      if (!r.items.length) return empty("No users.");
      reset.replaceChildren(resetForm(r.items.filter((u) => u.id !== currentUser()?.id)));
      return [
        table(
          ["User", "Email", "Role", "Status", "Last sign-in", ""],
          r.items.map((u) => [
            u.username,
            u.email ?? "—",
            u.admin ? "server admin" : "user",
            u.active ? "active" : "deactivated",
            when(u.last_login_at),
            u.id === currentUser()?.id
              ? h("span", { class: "hint" }, "you")
              : h(
                  "span",
                  { class: "row-actions" },
                  button(u.active ? "Deactivate" : "Activate", async () => {
                    await api.patch(`/api/v1/admin/users/${u.id}`, { active: !u.active });
                    notify(`${u.username} ${u.active ? "deactivated" : "activated"}.`);
                    await show();
                  }, { class: "small", "aria-label": `${u.active ? "Deactivate" : "Activate"} ${u.username}` }),
                  button(u.admin ? "Remove admin" : "Make admin", async () => {
                    await api.patch(`/api/v1/admin/users/${u.id}`, { admin: !u.admin });
                    notify(`${u.username} is ${u.admin ? "no longer" : "now"} a server administrator.`);
                    await show();
                  }, { class: "small", "aria-label": `${u.admin ? "Remove admin" : "Make admin"}: ${u.username}` }),
                ),
          ]),
        ),
        r.pagination.total_pages > 1
          ? h(
              "nav",
              { class: "pager", "aria-label": "Pages" },
              page > 1 ? h("a", { href: `/admin/users?page=${page - 1}` }, "Previous") : null,
              ` Page ${page} of ${r.pagination.total_pages} `,
              page < r.pagination.total_pages ? h("a", { href: `/admin/users?page=${page + 1}` }, "Next") : null,
            )
          : null,
      ];
    });
  void show();
  return [
    h("h1", null, "Users"),
    list,
    h("details", null, h("summary", null, "Reset a user's password"), reset),
    h(
      "details",
      null,
      h("summary", null, "Create a user"),
      form(
        {
          label: "Create a user",
          submit: "Create user",
          onSubmit: async (v, f) => {
            await api.post("/api/v1/admin/users", { username: v.username, email: v.email, password: v.password, admin: v.admin === true });
            f.reset();
            await show();
          },
        },
        field("Username", "username", { required: true }),
        field("Email", "email", { type: "email", required: true }),
        field("Initial password", "password", { type: "password", required: true, autocomplete: "new-password" }),
        checkbox("Server administrator", "admin"),
      ),
    ),
  ];
};

/** A server admin sets a new password for someone (their browser sessions end). */
function resetForm(users: User[]): HTMLElement {
  if (!users.length) return empty("No other users.");
  return form(
    {
      label: "Reset a password",
      submit: "Set password",
      onSubmit: async (v, f) => {
        const u = users.find((x) => x.id === v.user);
        await api.patch(`/api/v1/admin/users/${v.user}`, { password: v.password });
        f.reset();
        notify(`New password set for ${u?.username ?? "the user"}; their sessions were signed out.`);
      },
    },
    select("User", "user", users.map((u) => [u.id, u.username])),
    field("New password", "password", { type: "password", required: true, autocomplete: "new-password", hint: "At least 8 characters. Tell them over a safe channel." }),
  );
}
