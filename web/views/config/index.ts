// Config editor for one scope (organization, team, project, environment, service): list with
// secrets masked, set, delete, .env import with per-line errors; plus the resolved view.
import { api, itemsOf } from "../../api";
import { button, checkbox, empty, field, form, h, load, replace, table, textarea, when } from "../../dom";

type ConfigVar = { id?: string; name: string; value: string | null; secret: boolean; buildtime?: boolean; updated?: string | null };
type Resolved = { name: string; value: string | null; secret: boolean; scope?: string; source?: string; source_scope?: string };

const MASK = "•••••• (secret)";
const shown = (v: { secret: boolean; value: string | null }) => (v.secret ? h("span", { class: "masked" }, MASK) : h("code", null, v.value ?? ""));

/** Empties the named text fields of a form and leaves every other control as the user set it. */
function clearInputs(f: HTMLFormElement, names: string[]): void {
  for (const name of names) {
    const el = f.elements.namedItem(name);
    if (el instanceof HTMLInputElement || el instanceof HTMLTextAreaElement) el.value = "";
  }
}

/** `onChange` runs after any save, delete or import (e.g. to refresh a resolved view). */
export function configEditor(opts: { base: string; scope: string; bulk?: string; onChange?: () => void }): HTMLElement {
  const list = h("div");
  let first = true;
  const refresh = () => {
    if (!first) opts.onChange?.();
    first = false;
    return load(list, `${opts.scope} config`, async () => {
      const vars = itemsOf<ConfigVar>(await api.get(opts.base));
      if (!vars.length) return empty(`No ${opts.scope}-level variables yet.`);
      return table(
        ["Name", "Value", "Build time", "Updated", ""],
        vars.map((v) => [
          h("code", null, v.name),
          shown(v),
          v.buildtime ? "yes" : "no",
          when(v.updated),
          button(
            "Delete",
            async () => {
              if (!confirm(`Delete ${v.name}?`)) return;
              await api.del(`${opts.base}/${encodeURIComponent(v.id ?? v.name)}`);
              await refresh();
            },
            { class: "danger small", "aria-label": `Delete ${v.name}` },
          ),
        ]),
      );
    });
  };
  void refresh();

  const setForm = form(
    {
      label: `Set a ${opts.scope} variable`,
      submit: "Save variable",
      onSubmit: async (v, f) => {
        await api.post(opts.base, { name: v.name, value: v.value, secret: v.secret === true, buildtime: v.buildtime === true });
        // never leave a typed value on the page after saving, but keep the Secret and Build time
        // choices: form.reset() would untick Secret and store the next variable in plain text
        clearInputs(f, ["name", "value"]);
        await refresh();
      },
    },
    field("Name", "name", { required: true, placeholder: "DATABASE_URL" }),
    field("Value", "value", { type: "password", hint: "Secret values are hidden while typing and never shown again." }),
    checkbox("Secret (encrypted, never displayed)", "secret", true),
    checkbox("Available at build time", "buildtime"),
  );
  // secret values are typed hidden; plain ones visibly
  const valueInput = setForm.querySelector<HTMLInputElement>('input[name="value"]')!;
  const secretBox = setForm.querySelector<HTMLInputElement>('input[name="secret"]')!;
  const syncType = () => (valueInput.type = secretBox.checked ? "password" : "text");
  secretBox.addEventListener("change", syncType);
  setForm.addEventListener("reset", () => setTimeout(syncType));
  syncType();

  const result = h("div", { class: "import-result", "aria-live": "polite" });
  const importForm = form(
    {
      label: `Import ${opts.scope} variables from .env`,
      submit: "Import",
      onSubmit: async (v, f) => {
        const r = await api.post<{ created?: string[]; updated?: string[]; skipped?: string[]; errors?: { line?: number; message?: string; name?: string }[] }>(opts.bulk ?? `${opts.base}/bulk`, {
          raw: v.raw,
          overwrite: v.overwrite === true,
          secret: v.secret === true,
        });
        clearInputs(f, ["raw"]); // the pasted text goes; "Import as secrets" and "Overwrite" stay as chosen
        replace(
          result,
          h("p", null, `Imported ${r.created?.length ?? 0}`, r.updated?.length ? `, replaced ${r.updated.length}` : "", r.skipped?.length ? `, skipped ${r.skipped.length} existing (${r.skipped.join(", ")})` : "", "."),
          r.errors?.length
            ? h("ul", { class: "line-errors" }, r.errors.map((e) => h("li", null, `Line ${e.line ?? "?"}: ${e.message ?? "invalid"}`)))
            : null,
        );
        await refresh();
      },
    },
    textarea("Paste a .env file", "raw", { rows: 6, placeholder: "# comments are fine\nexport API_URL=https://example.com\nTOKEN='abc'" }),
    checkbox("Overwrite existing names", "overwrite"),
    checkbox("Import as secrets", "secret"),
  );

  return h(
    "div",
    { class: "config-editor" },
    list,
    h("details", null, h("summary", null, "Set a variable"), setForm),
    h("details", null, h("summary", null, "Import a .env file"), importForm, result),
  );
}

export function resolvedConfig(path: string): HTMLElement & { reload: () => void } {
  const box = Object.assign(h("div"), { reload: () => void show() });
  const show = () => load(box, "Resolved config", async () => {
    const vars = itemsOf<Resolved>(await api.get(path));
    if (!vars.length) return empty("No variables apply to this service yet.");
    return table(
      ["Name", "Value", "From scope"],
      vars.map((v) => [h("code", null, v.name), shown(v), v.scope ?? v.source_scope ?? v.source ?? "—"]),
    );
  });
  void show();
  return box;
}
