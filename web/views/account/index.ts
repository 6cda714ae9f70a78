// Your account: who you are, and change your password (the current one is asked for; your other
// browser sessions end, this one stays).
import { api } from "../../api";
import { field, form, h, notify, section } from "../../dom";
import type { View } from "../../router";
import { currentUser } from "../../session";

export const accountView: View = () => {
  const me = currentUser()!;
  const done = h("p", { class: "ok", role: "status" });
  return [
    h("h1", null, "Your account"),
    h("p", null, "Signed in as ", h("strong", null, me.username), me.email ? ` (${me.email})` : "", me.admin ? " · server administrator" : ""),
    section(
      "Change password",
      form(
        {
          label: "Change password",
          submit: "Change password",
          onSubmit: async (v, f) => {
            done.textContent = "";
            if (v.new_password !== v.confirm_password) {
              const slot = f.querySelector('[data-field="confirm_password"] .field-error');
              if (slot) slot.textContent = "does not match the new password";
              return;
            }
            await api.post("/api/v1/auth/password", { current_password: v.current_password, new_password: v.new_password });
            f.reset();
            done.textContent = "Password changed. Your other sessions were signed out.";
            notify("Password changed.");
          },
        },
        field("Current password", "current_password", { type: "password", required: true, autocomplete: "current-password" }),
        field("New password", "new_password", { type: "password", required: true, autocomplete: "new-password", hint: "At least 8 characters." }),
        field("Repeat the new password", "confirm_password", { type: "password", required: true, autocomplete: "new-password" }),
      ),
      done,
    ),
  ];
};
