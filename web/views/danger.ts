// Rename and delete for any resource (service, environment, project, organization): rename is a
// PATCH of `name`; delete asks for the slug to be typed first, then goes to `after`.
import { api } from "../api";
import { button, confirmTyped, field, form, h, notify, section } from "../dom";
import { navigate } from "../router";

export type DangerOpts = {
  what: string; // "service", "environment" …
  name: string;
  slug: string;
  path: string; // API path of the resource (PATCH and DELETE)
  /** where to go after a delete */
  after: string;
  /** after a rename, with the new name */
  renamed?: (name: string) => void;
  /** what a delete takes with it, said before asking */
  consequence?: string;
  canDelete?: boolean;
  /** why it cannot be deleted (with canDelete: false) */
  refusal?: string;
};

export function renameForm(o: DangerOpts): HTMLFormElement {
  return form(
    {
      label: `Rename ${o.what}`,
      submit: "Rename",
      onSubmit: async (v) => {
        const updated = await api.patch<{ name: string }>(o.path, { name: v.name });
        notify(`Renamed to ${updated.name}.`);
        o.renamed?.(updated.name);
      },
    },
    field("Name", "name", { value: o.name, required: true, hint: "The slug (used in URLs and hostnames) stays." }),
  );
}

export function dangerZone(o: DangerOpts): HTMLElement {
  return section(
    "Danger zone",
    h("div", { class: "danger-zone" },
      h("p", null, `Delete ${o.what} `, h("code", null, o.slug), o.consequence ? `: ${o.consequence}` : "."),
      o.canDelete === false
        ? h("p", { class: "hint" }, o.refusal ?? "Only organization admins can delete it.")
        : button(
            `Delete ${o.what}`,
            async () => {
              if (!(await confirmTyped(o.what, o.slug))) return;
              await api.del(o.path);
              notify(`Deleted ${o.what} ${o.name}.`);
              navigate(o.after);
            },
            { class: "danger" },
          ),
    ),
  );
}
