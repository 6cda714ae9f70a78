// Tiny DOM helpers: h() builds elements, form helpers show API errors next to their fields.
import { ApiError } from "./api";

export type Child = Node | string | number | null | undefined | false | Child[];
type Props = Record<string, unknown>;

function append(el: Element, children: Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

function applyProps(el: Element, props: Props | null | undefined): void {
  for (const [k, v] of Object.entries(props ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith("on") && typeof v === "function") el.addEventListener(k.slice(2), v as EventListener);
    else if (k === "value" || k === "checked" || k === "disabled" || k === "selected") (el as unknown as Record<string, unknown>)[k] = v;
    else el.setAttribute(k, v === true ? "" : String(v));
  }
}

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, props?: Props | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

export function svg(tag: string, props?: Props | null, ...children: Child[]): SVGElement {
  const el = document.createElementNS("http://www.w3.org/2000/svg", tag);
  applyProps(el, props);
  append(el, children);
  return el;
}

export function replace(el: Element, ...children: Child[]): void {
  el.replaceChildren();
  append(el, children);
}

let ids = 0;
export const uid = (prefix: string) => `${prefix}-${++ids}`;

export type FieldOpts = { type?: string; value?: string; required?: boolean; placeholder?: string; hint?: string; autocomplete?: string; min?: number; max?: number };

/** A labelled input with an error slot the API's 422 messages are written into. */
export function field(label: string, name: string, opts: FieldOpts = {}): HTMLElement {
  const id = uid(name.replace(/\W/g, "-"));
  const input = h("input", {
    id,
    name,
    type: opts.type ?? "text",
    value: opts.value,
    required: opts.required,
    placeholder: opts.placeholder,
    autocomplete: opts.autocomplete ?? "off",
    min: opts.min,
    max: opts.max,
    "aria-describedby": `${id}-error`,
  });
  return h("div", { class: "field", "data-field": name }, h("label", { for: id }, label), input, opts.hint ? h("small", { class: "hint" }, opts.hint) : null, h("p", { class: "field-error", id: `${id}-error`, role: "alert" }));
}

export function checkbox(label: string, name: string, checked = false): HTMLElement {
  const id = uid(name);
  return h("div", { class: "field check", "data-field": name }, h("input", { id, name, type: "checkbox", checked }), h("label", { for: id }, label), h("p", { class: "field-error", id: `${id}-error`, role: "alert" }));
}

export function select(label: string, name: string, options: [string, string][], value?: string): HTMLElement {
  const id = uid(name);
  return h(
    "div",
    { class: "field", "data-field": name },
    h("label", { for: id }, label),
    h("select", { id, name }, options.map(([v, text]) => h("option", { value: v, selected: v === value }, text))),
    h("p", { class: "field-error", id: `${id}-error`, role: "alert" }),
  );
}

export function textarea(label: string, name: string, opts: { rows?: number; placeholder?: string; value?: string } = {}): HTMLElement {
  const id = uid(name);
  return h(
    "div",
    { class: "field", "data-field": name },
    h("label", { for: id }, label),
    h("textarea", { id, name, rows: opts.rows ?? 6, placeholder: opts.placeholder, spellcheck: "false" }, opts.value ?? ""),
    h("p", { class: "field-error", id: `${id}-error`, role: "alert" }),
  );
}

export function clearErrors(form: HTMLFormElement): void {
  form.querySelectorAll(".field-error, .form-error").forEach((e) => (e.textContent = ""));
  form.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
}

/** Put each 422 field message next to its field; everything else goes to the form's error line. */
export function showErrors(form: HTMLFormElement, err: unknown): void {
  clearErrors(form);
  const formError = form.querySelector(".form-error");
  if (!(err instanceof ApiError)) {
    if (formError) formError.textContent = "Something went wrong; please retry.";
    return;
  }
  let placed = false;
  for (const e of err.errors) {
    const top = e.path.split(".")[0] ?? "";
    const box = form.querySelector(`[data-field="${CSS.escape(e.path)}"]`) ?? form.querySelector(`[data-field="${CSS.escape(top)}"]`);
    if (!box) continue;
    const slot = box.querySelector(".field-error");
    if (slot) slot.textContent = slot.textContent ? `${slot.textContent} ${e.message}` : e.message;
    box.querySelector("input, select, textarea")?.setAttribute("aria-invalid", "true");
    placed = true;
  }
  if (!placed && formError) formError.textContent = err.message;
  (form.querySelector("[aria-invalid]") as HTMLElement | null)?.focus();
}

/** A form that calls `submit` with its values, disables itself while busy and shows errors. */
export function form(props: { label: string; submit: string; onSubmit: (values: Record<string, string | boolean>, form: HTMLFormElement) => Promise<void> }, ...fields: Child[]): HTMLFormElement {
  const button = h("button", { type: "submit" }, props.submit);
  const f = h("form", { "aria-label": props.label, novalidate: true }, fields, h("p", { class: "form-error", role: "alert" }), h("div", { class: "actions" }, button));
  f.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    clearErrors(f);
    const values: Record<string, string | boolean> = {};
    for (const el of Array.from(f.elements) as HTMLInputElement[]) {
      if (!el.name) continue;
      values[el.name] = el.type === "checkbox" ? el.checked : el.value;
    }
    button.disabled = true;
    try {
      await props.onSubmit(values, f);
    } catch (err) {
      showErrors(f, err);
    } finally {
      button.disabled = false;
    }
  });
  return f;
}

export function table(headers: string[], rows: Child[][], caption?: string): HTMLElement {
  return h(
    "div",
    { class: "table-wrap" },
    h("table", null, caption ? h("caption", null, caption) : null, h("thead", null, h("tr", null, headers.map((x) => h("th", { scope: "col" }, x)))), h("tbody", null, rows.map((r) => h("tr", null, r.map((c) => h("td", null, c)))))),
  );
}

export const empty = (text: string) => h("p", { class: "empty" }, text);
export const unavailable = (what: string) => h("p", { class: "unavailable" }, `${what}: not available yet on this server.`);
export const when = (iso: string | null | undefined) => (iso ? new Date(iso).toLocaleString() : "—");

/** Fill `container` from an async builder: a loading line, then the content, an honest
 * "not available yet" when the route does not exist, or the API's error message. */
export function load(container: HTMLElement, what: string, build: () => Promise<Child>): Promise<void> {
  replace(container, h("p", { class: "loading", "aria-busy": "true" }, "Loading…"));
  return build().then(
    (node) => replace(container, node),
    (err) => {
      if (err instanceof ApiError && err.unavailable) replace(container, unavailable(what));
      else replace(container, h("p", { class: "error", role: "alert" }, err instanceof ApiError ? err.message : "Something went wrong."));
    },
  );
}

export function section(title: string, ...children: Child[]): HTMLElement {
  const id = uid("sec");
  return h("section", { "aria-labelledby": id }, h("h2", { id }, title), children);
}

/** The one status region: every action's outcome is announced here (and shown as a toast). */
export function notify(text: string, kind: "ok" | "error" = "ok"): void {
  let region = document.getElementById("toasts");
  if (!region) {
    region = h("div", { id: "toasts", class: "toasts", role: "status", "aria-live": "polite" });
    document.body.append(region);
  }
  const t = h("p", { class: `toast ${kind}` }, text);
  region.append(t);
  setTimeout(() => t.remove(), kind === "error" ? 8000 : 4000);
}

/** What a failed action says: the API's sentence, with why for refusals. */
export function errorText(err: unknown): string {
  if (!(err instanceof ApiError)) return "Something went wrong; please retry.";
  if (err.status === 403) return `Not allowed: ${err.message}`;
  return err.message;
}

/** A button whose action is awaited; while busy it is disabled, a failure is announced. */
export function button(label: string, onClick: (ev: MouseEvent) => unknown, props: Props = {}): HTMLButtonElement {
  const b = h("button", { type: "button", ...props }, label);
  b.addEventListener("click", async (ev) => {
    b.disabled = true;
    try {
      await onClick(ev);
    } catch (err) {
      notify(errorText(err), "error");
    } finally {
      b.disabled = false;
    }
  });
  return b;
}

/** Ask to type `name` before a destructive action; resolves true only when it was typed. */
export function confirmTyped(what: string, name: string): Promise<boolean> {
  return new Promise((done) => {
    const id = uid("confirm");
    const input = h("input", { id, type: "text", autocomplete: "off", spellcheck: "false" });
    const go = h("button", { type: "submit", class: "danger", disabled: true }, "Delete");
    input.addEventListener("input", () => (go.disabled = input.value !== name));
    const dlg = h(
      "dialog",
      { class: "confirm", "aria-labelledby": `${id}-title` },
      h(
        "form",
        { method: "dialog" },
        h("h2", { id: `${id}-title` }, `Delete ${what}?`),
        h("p", null, "This cannot be undone. Type ", h("code", null, name), " to confirm."),
        h("label", { for: id }, `Name of the ${what}`),
        input,
        h("div", { class: "actions" }, go, h("button", { type: "button", onclick: () => dlg.close("cancel") }, "Cancel")),
      ),
    );
    dlg.addEventListener("close", () => {
      dlg.remove();
      done(dlg.returnValue !== "cancel" && input.value === name);
    });
    document.body.append(dlg);
    dlg.showModal();
    input.focus();
  });
}

/** Tabs as links (each a deep link); `current` is the selected one's key. */
export function tabs(label: string, items: { key: string; text: string; href: string }[], current: string): HTMLElement {
  return h(
    "nav",
    { class: "tabs", "aria-label": label },
    items.map((t) => h("a", { href: t.href, class: t.key === current ? "tab current" : "tab", "aria-current": t.key === current ? "page" : undefined }, t.text)),
  );
}

/** Seconds as "1 h 4 min", "3 min 5 s", "12 s". */
export function duration(seconds: number | null | undefined): string {
  if (seconds === null || seconds === undefined || !Number.isFinite(seconds)) return "—";
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min ${s % 60} s`;
  if (s < 86400) return `${Math.floor(s / 3600)} h ${Math.floor((s % 3600) / 60)} min`;
  return `${Math.floor(s / 86400)} d ${Math.floor((s % 86400) / 3600)} h`;
}

/** "5 min ago" style, from an ISO time. */
export function ago(iso: string | null | undefined): string {
  if (!iso) return "—";
  const s = (Date.now() - Date.parse(iso)) / 1000;
  return s < 5 ? "just now" : `${duration(s)} ago`;
}
