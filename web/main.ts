// Dashboard entry: layout, session check, routes. Each view lives in its own folder under views/.
import "./styles.css";
import { setUnauthorizedHandler } from "./api";
import { h, replace, type Child } from "./dom";
import { refresh, route, startRouter, navigate, type RouteContext, type View } from "./router";
import { currentUser, loadSession, signOut } from "./session";
import { loginView } from "./views/login";
import { orgsView } from "./views/orgs";
import { orgView } from "./views/org";
import { projectView } from "./views/project";
import { envView } from "./views/env";
import { serviceView } from "./views/service";
import { keysView } from "./views/keys";
import { usersView } from "./views/users";
import { serverView } from "./views/server";
import { cliAuthView } from "./views/cli-auth";
import { accountView } from "./views/account";

route("/", "Organizations", orgsView);
route("/orgs/:org", (p) => p.org!, orgView);
route("/orgs/:org/projects/:project", (p) => `${p.project} · ${p.org}`, projectView);
route("/orgs/:org/projects/:project/envs/:env", (p) => `${p.env} · ${p.project}`, envView);
route("/orgs/:org/projects/:project/envs/:env/services/:service", (p) => `${p.service} · ${p.env} · ${p.project}`, serviceView);
route("/orgs/:org/projects/:project/envs/:env/services/:service/:tab", (p) => `${p.service} · ${p.env} · ${p.project}`, serviceView);
route("/keys", "API keys", keysView);
route("/admin/users", "Users", usersView);
route("/admin/server", "Server", serverView);
route("/account", "Your account", accountView);
route("/cli-auth", "Authorize the CLI", cliAuthView, { public: true });
route("/login", "Sign in", loginView, { public: true });

const app = document.getElementById("app")!;

function header(): HTMLElement {
  const user = currentUser();
  return h(
    "header",
    { class: "top" },
    h("a", { class: "skip", href: "#main" }, "Skip to content"),
    h("a", { class: "brand", href: "/" }, "⚓ Ancla"),
    user
      ? h(
          "nav",
          { "aria-label": "Main" },
          h("a", { href: "/" }, "Organizations"),
          h("a", { href: "/keys" }, "API keys"),
          user.admin ? h("a", { href: "/admin/users" }, "Users") : null,
          user.admin ? h("a", { href: "/admin/server" }, "Server") : null,
          h("a", { class: "who", href: "/account", title: "Your account" }, user.username),
          h(
            "button",
            {
              type: "button",
              class: "link",
              onclick: async () => {
                await signOut();
                navigate("/login");
              },
            },
            "Sign out",
          ),
        )
      : null,
  );
}

let generation = 0;

async function renderRoute(r: { view: View; title: string; public: boolean } | null, ctx: RouteContext): Promise<void> {
  const mine = ++generation;
  const main = h("main", { id: "main", tabindex: "-1" });
  // not signed in: show the sign-in form in place, keeping the URL so deep links resume after it
  const view: View = !r ? notFound : !currentUser() && !r.public ? loginView : r.view;
  document.title = `${!r ? "Not found" : !currentUser() && !r.public ? "Sign in" : r.title} · Ancla`;
  replace(app, header(), main);
  let content: Child;
  try {
    content = await view(ctx);
  } catch (err) {
    content = h("p", { class: "error", role: "alert" }, err instanceof Error ? err.message : "Something went wrong.");
  }
  if (mine !== generation) return;
  replace(main, content);
  main.focus({ preventScroll: true });
  // the first page is usable from here on; tests read this mark to check the < 1 s budget
  if (!performance.getEntriesByName("ancla:interactive").length) performance.mark("ancla:interactive");
}

const notFound: View = () => [h("h1", null, "Page not found"), h("p", null, h("a", { href: "/" }, "Back to your organizations"))];

setUnauthorizedHandler(() => {
  if (currentUser()) loadSession().then(() => refresh());
});

loadSession().then(() => startRouter((r, ctx) => void renderRoute(r, ctx)));
