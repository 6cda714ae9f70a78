// Sign in. Shown in place of any page while signed out, so a deep link resumes after it.
import { field, form, h } from "../../dom";
import { navigate, refresh, type View } from "../../router";
import { signIn } from "../../session";

export const loginView: View = ({ path, query }) => [
  h("h1", null, "Sign in to Ancla"),
  form(
    {
      label: "Sign in",
      submit: "Sign in",
      onSubmit: async (v) => {
        await signIn(String(v.email), String(v.password));
        if (path === "/login") navigate(query.get("next")?.startsWith("/") && !query.get("next")!.startsWith("//") ? query.get("next")! : "/", { replace: true });
        else refresh();
      },
    },
    field("Email or username", "email", { required: true, autocomplete: "username" }),
    field("Password", "password", { type: "password", required: true, autocomplete: "current-password" }),
  ),
  h(
    "aside",
    { class: "hint-box" },
    h("strong", null, "First start? "),
    "The server created an administrator and wrote its username, email and password to ",
    h("code", null, "initial-admin.txt"),
    " in its data directory (by default ",
    h("code", null, "~/.ancla/server/initial-admin.txt"),
    "). ",
    h("code", null, "ancla serve"),
    " also printed them once on first start.",
  ),
];
