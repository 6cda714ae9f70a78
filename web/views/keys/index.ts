// The user's API keys: create (the key is shown once, with a copy button), revoke, delete.
import { api } from "../../api";
import { button, empty, field, form, h, load, replace, table, when } from "../../dom";
import type { View } from "../../router";

import type { KeyInfo as Key } from "../../types";

export const keysView: View = () => {
  const list = h("div");
  const reveal = h("div", { "aria-live": "polite" });
  const show = () =>
    load(list, "API keys", async () => {
      const { items } = await api.get<{ items: Key[] }>("/api/keys?limit=100");
      if (!items.length) return empty("No API keys yet.");
      return table(
        ["Name", "Status", "Created", "Last used", ""],
        items.map((k) => [
          k.name,
          k.is_active ? "active" : "revoked",
          when(k.created_at),
          when(k.last_used_at),
          h(
            "span",
            { class: "row-actions" },
            k.is_active
              ? button("Revoke", async () => {
                  if (!confirm(`Revoke "${k.name}"? Scripts using it stop working.`)) return;
                  await api.post(`/api/keys/${k.key_id}/revoke`);
                  await show();
                }, { class: "small danger", "aria-label": `Revoke ${k.name}` })
              : null,
            button("Delete", async () => {
              if (!confirm(`Delete "${k.name}"?`)) return;
              await api.del(`/api/keys/${k.key_id}`);
              await show();
            }, { class: "small", "aria-label": `Delete ${k.name}` }),
          ),
        ]),
      );
    });
  void show();
  return [
    h("h1", null, "API keys"),
    h("p", null, "Keys authenticate the CLI and scripts (", h("code", null, "X-API-Key"), " header). A key acts as you."),
    form(
      {
        label: "Create an API key",
        submit: "Create key",
        onSubmit: async (v, f) => {
          const created = await api.post<{ key: string; name: string }>("/api/keys", { name: v.name });
          f.reset();
          replace(reveal, newKey(created.name, created.key));
          await show();
        },
      },
      field("Key name", "name", { required: true, placeholder: "deploy script" }),
    ),
    reveal,
    list,
  ];
};

function newKey(name: string, key: string): HTMLElement {
  const status = h("span", { class: "ok", "aria-live": "polite" });
  const box = h("div", { class: "new-key", role: "status" });
  const output = h("input", { type: "text", readonly: true, value: key, "aria-label": `New API key ${name}`, class: "key", id: "new-key-value" });
  replace(
    box,
    h("p", null, h("strong", null, `Key "${name}" created. `), "Copy it now: it is shown only once."),
    h("div", { class: "copy-row" }, output, button("Copy", async () => {
      try {
        await navigator.clipboard.writeText(key);
        status.textContent = "Copied.";
      } catch {
        output.select();
        status.textContent = "Select the key and copy it with your keyboard.";
      }
    }), button("Done", () => box.remove(), { class: "link" })),
    status,
  );
  return box;
}
