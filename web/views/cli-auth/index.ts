// /cli-auth?code=XXXX-XXXX&port=N[&host=H]: authorize an `ancla login` waiting on this machine.
// The only place the browser is sent is http://127.0.0.1:<port>/callback, checked again here.
import { api } from "../../api";
import { button, h } from "../../dom";
import type { View } from "../../router";
import { currentUser } from "../../session";
import { loginView } from "../login";

const CODE_RE = /^[A-Z0-9]{4}-[A-Z0-9]{4}$/;

function validPort(raw: string | null): number | null {
  if (!raw || !/^\d{1,5}$/.test(raw)) return null;
  const n = Number(raw);
  return n >= 1024 && n <= 65535 ? n : null;
}

export const cliAuthView: View = async (ctx) => {
  const code = ctx.query.get("code") ?? "";
  const port = validPort(ctx.query.get("port"));
  const host = ctx.query.get("host");
  if (!CODE_RE.test(code) || port === null) {
    return [
      h("h1", null, "Invalid CLI sign-in link"),
      h(
        "p",
        { class: "error", role: "alert" },
        !CODE_RE.test(code) ? "The confirmation code is missing or malformed (expected XXXX-XXXX). " : "",
        port === null ? "The CLI's local port is missing or outside 1024–65535. " : "",
      ),
      h("p", null, "Run ", h("code", null, "ancla login"), " again, or use ", h("code", null, "ancla login --manual"), " with an API key."),
    ];
  }
  if (!currentUser()) return [h("p", { class: "hint-box" }, "Sign in to authorize the Ancla CLI."), await loginView(ctx)];

  const callback = (params: Record<string, string>) => `http://127.0.0.1:${port}/callback?${new URLSearchParams(params)}`;
  const status = h("p", { role: "status", "aria-live": "polite" });
  const actions = h(
    "div",
    { class: "actions" },
    button(
      "Authorize",
      async () => {
        try {
          const r = await api.post<{ redirect_url: string }>("/api/v1/auth/cli-authorize", { code, port, host: host || undefined });
          const expected = `http://127.0.0.1:${port}/callback?`;
          if (!r.redirect_url.startsWith(expected)) throw new Error("The server returned an unexpected address; nothing was sent.");
          actions.remove();
          status.textContent = "Authorized. Handing the key to your terminal… you can close this tab.";
          location.assign(r.redirect_url);
        } catch (err) {
          status.textContent = (err as Error).message;
        }
      },
      { class: "primary" },
    ),
    button("Deny", () => {
      actions.remove();
      status.textContent = "Denied. No key was created; you can close this tab.";
      location.assign(callback({ error: "access_denied", code }));
    }),
  );
  return [
    h("h1", null, "Authorize the Ancla CLI"),
    h("p", null, `Signed in as ${currentUser()!.username}. A command line`, host ? ` on ${host}` : "", " asks for an API key that acts as you."),
    h("p", null, "Check that this code matches the one in your terminal:"),
    h("p", { class: "code", "aria-label": `Confirmation code ${code.split("").join(" ")}` }, code),
    actions,
    status,
  ];
};
