// Organizations the user belongs to, and a form to create one.
import { api } from "../../api";
import { empty, field, form, h, load, section, table } from "../../dom";
import { links, navigate, type View } from "../../router";

import type { OrgSummary } from "../../types";

export const orgsView: View = () => {
  const list = h("div");
  load(list, "Organizations", async () => {
    const orgs = await api.get<OrgSummary[]>("/api/v1/organizations");
    if (!orgs.length) return empty("You are not a member of any organization yet. Create one below.");
    return table(
      ["Organization", "Slug", "Projects", "Members"],
      orgs.map((o) => [h("a", { href: links.org(o.slug) }, o.name), o.slug, o.project_count, o.member_count]),
    );
  });
  return [
    h("h1", null, "Organizations"),
    list,
    section(
      "Create an organization",
      form(
        {
          label: "Create an organization",
          submit: "Create organization",
          onSubmit: async (v) => {
            const org = await api.post<{ slug: string }>("/api/v1/organizations", { name: v.name, slug: v.slug || undefined });
            navigate(links.org(org.slug));
          },
        },
        field("Name", "name", { required: true }),
        field("Slug (optional)", "slug", { hint: "Lowercase letters, digits and dashes; derived from the name when empty." }),
      ),
    ),
  ];
};
