// An environment's target: Docker on this host or a Kubernetes cluster. The kubeconfig and the
// registry password are sent, never shown back: the page shows the cluster's server, context and
// a fingerprint, and "Check connection" lists what works and exactly what failed.
import { api } from "../../api";
import { button, field, form, h, notify, replace, select, table, textarea } from "../../dom";

export type EnvTarget = {
  target: "docker" | "kubernetes";
  kubeconfig_set: boolean;
  kubeconfig_server: string | null;
  kubeconfig_fingerprint: string | null;
  context: string | null;
  namespace: string | null;
  ingress_class: string | null;
  ingress_tls_secret: string | null;
  registry_url: string | null;
  registry_username: string | null;
  registry_password_set: boolean;
};
type Check = { ok: boolean; checks: { name: string; ok: boolean; message: string }[] };

const LABELS: Record<string, string> = { api_server: "API server", namespace: "Namespace rights", registry: "Registry login", docker: "Docker engine" };

function summary(d: EnvTarget): HTMLElement {
  if (d.target === "docker") return h("p", null, "Services run on this host's Docker engine.");
  return table(
    ["Setting", "Value"],
    [
      ["Cluster", d.kubeconfig_server ?? "—"],
      ["Context", d.context ?? "kubeconfig's current-context"],
      ["Kubeconfig", d.kubeconfig_fingerprint ? h("code", null, d.kubeconfig_fingerprint) : "—"],
      ["Namespace", d.namespace ?? "—"],
      ["Ingress class", d.ingress_class ?? "cluster default"],
      ["Ingress TLS secret", d.ingress_tls_secret ?? "none"],
      ["Registry", d.registry_url ?? "not set (deploys need one)"],
      ["Registry login", d.registry_username ? `${d.registry_username}${d.registry_password_set ? " (password set)" : ""}` : "anonymous"],
    ],
  );
}

/** The settings form; empty secret fields keep what is stored. "Check connection" is for org admins (the API's rule). */
export function targetSection(base: string, initial: EnvTarget, admin: boolean): HTMLElement {
  let current = initial;
  const shown = h("div", null, summary(current));
  const results = h("div", { "aria-live": "polite" });
  const check = button("Check connection", async () => {
    replace(results, h("p", { class: "loading", "aria-busy": "true" }, "Checking…"));
    const r = await api.post<Check>(`${base}/check`, {});
    replace(
      results,
      h("p", { class: r.ok ? "ok" : "error", role: "status" }, r.ok ? "Everything checked works." : "Something does not work:"),
      table(["Check", "Result", "Detail"], r.checks.map((c) => [LABELS[c.name] ?? c.name, c.ok ? "ok" : "failed", c.message])),
    );
  });
  const settings = form(
    {
      label: "Target settings",
      submit: "Save target",
      onSubmit: async (v) => {
        const body: Record<string, unknown> = { target: v.target };
        const text = (k: string) => (typeof v[k] === "string" ? (v[k] as string).trim() : "");
        if (text("kubeconfig")) body.kubeconfig = v.kubeconfig;
        for (const k of ["context", "namespace", "ingress_class", "ingress_tls_secret", "registry_url", "registry_username"]) body[k] = text(k) || null;
        if (v.target === "kubernetes" && !text("namespace")) delete body.namespace; // keep (or get) the default
        if (text("registry_password")) body.registry_password = v.registry_password;
        else if (!text("registry_username")) body.registry_password = null;
        if (v.target === "docker") body.kubeconfig = null;
        current = await api.patch<EnvTarget>(base, body);
        (settings.elements.namedItem("kubeconfig") as HTMLTextAreaElement).value = "";
        (settings.elements.namedItem("registry_password") as HTMLInputElement).value = "";
        replace(shown, summary(current));
        notify("Target saved.");
      },
    },
    select("Target", "target", [["docker", "Docker on this host"], ["kubernetes", "Kubernetes cluster"]], current.target),
    textarea(current.kubeconfig_set ? "Kubeconfig (leave empty to keep the stored one)" : "Kubeconfig (YAML with embedded certificates or a token)", "kubeconfig", { rows: 6, placeholder: "apiVersion: v1\nkind: Config\nclusters: …" }),
    field("Context (optional)", "context", { value: current.context ?? "" }),
    field("Namespace", "namespace", { value: current.namespace ?? "", hint: "Default: ancla-<org>-<project>-<env>." }),
    field("Ingress class (optional)", "ingress_class", { value: current.ingress_class ?? "" }),
    field("Ingress TLS secret (optional)", "ingress_tls_secret", { value: current.ingress_tls_secret ?? "", hint: "A TLS secret in the namespace; the Ingress then serves HTTPS for the service's hostnames." }),
    field("Registry", "registry_url", { value: current.registry_url ?? "", placeholder: "registry.example.com or 127.0.0.1:5000", hint: "Images are pushed here and the cluster pulls them from here." }),
    field("Registry username (optional)", "registry_username", { value: current.registry_username ?? "", autocomplete: "off" }),
    field(current.registry_password_set ? "Registry password (leave empty to keep)" : "Registry password", "registry_password", { type: "password", autocomplete: "new-password" }),
  );
  return h("div", null, shown, admin ? h("div", { class: "actions" }, check) : null, admin ? results : null, h("details", null, h("summary", null, "Change the target"), settings));
}
