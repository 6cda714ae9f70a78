// Server users (server admins only): list, create, activate/deactivate, grant admin.
import { api, type User } from "../../api";
import { button, checkbox, empty, field, form, h, load, table, when } from "../../dom";
import type { View } from "../../router";
import { currentUser } from "../../session";

type Page = { items: User[]; pagination: { page: number; total_pages: number; total: number } };

export const usersView: View = ({ query }) => {
  if (!currentUser()?.admin) return [h("h1", null, "Users"), h("p", { class: "error" }, "Only server administrators can manage users.")];
  const page = Math.max(1, Number(query.get("page")) || 1);
  const list = h("div");
  const show = () =>
    load(list, "Users", async () => {
      const r = await api.get<Page>(`/api/v1/admin/users?page=${page}&per_page=50`);
      if (!r.items.length) return empty("No users.");
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
                    await show();
                  }, { class: "small", "aria-label": `${u.active ? "Deactivate" : "Activate"} ${u.username}` }),
                  button(u.admin ? "Remove admin" : "Make admin", async () => {
                    await api.patch(`/api/v1/admin/users/${u.id}`, { admin: !u.admin });
                    await show();
                  }, { class: "small", "aria-label": `Toggle server admin for ${u.username}` }),
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
