// The service settings (health check, port, timeout, domains, git source).
import { api } from "../../api";
import { field, form, h, notify } from "../../dom";

import type { ServiceDetail } from "../../types";

export type { ServiceDetail };

const orNull = (v: unknown) => (v === "" || v === undefined ? null : v);

export function settingsForm(svc: ServiceDetail, base: string, onSaved: (s: ServiceDetail) => void): HTMLElement {
  const done = h("p", { class: "ok", "aria-live": "polite" });
  return h(
    "div",
    null,
    form(
      {
        label: "Service settings",
        submit: "Save settings",
        onSubmit: async (v) => {
          done.textContent = "";
          const body = {
            health_check_path: orNull(v.health_check_path),
            health_check_host: orNull(v.health_check_host),
            deployment_timeout: v.deployment_timeout === "" ? null : Number(v.deployment_timeout),
            upstream_timeout: v.upstream_timeout === "" ? null : Number(v.upstream_timeout),
            domains: String(v.domains).split(/[\s,]+/).filter(Boolean),
            git_url: orNull(v.git_url),
            build_ref: orNull(v.build_ref),
            dockerfile_path: orNull(v.dockerfile_path),
            image: orNull(v.image),
            port: Number(v.port),
          };
          const updated = await api.patch<ServiceDetail>(base, body);
          done.textContent = "Settings saved.";
          notify("Settings saved.");
          onSaved(updated);
        },
      },
      field("Health check path", "health_check_path", { value: svc.health_check_path, placeholder: "/_health/", hint: "Web replicas must answer it with 2xx or 3xx before they get traffic (default /_health/)." }),
      field("Health check Host header", "health_check_host", { value: svc.health_check_host ?? "" }),
      field("Deployment timeout (seconds)", "deployment_timeout", { type: "number", value: svc.deployment_timeout?.toString() ?? "", placeholder: "180" }),
      field("Router timeout (seconds)", "upstream_timeout", {
        type: "number",
        value: String(svc.upstream_timeout),
        placeholder: "60",
        min: 1,
        max: 3600,
        hint: "How long a replica may take to answer before visitors get a 504.",
      }),
      field("Custom domains", "domains", { value: svc.domains.join(", "), hint: "Separate with commas or spaces." }),
      field("Git URL", "git_url", { value: svc.git_url ?? "" }),
      field("Git ref (branch, tag or commit)", "build_ref", { value: svc.build_ref ?? "" }),
      field("Dockerfile path", "dockerfile_path", { value: svc.dockerfile_path }),
      field("Pre-built image (instead of building)", "image", { value: svc.image ?? "" }),
      field("Container port", "port", { type: "number", value: String(svc.port), min: 1, max: 65535, hint: "Your app listens here; Ancla passes it as PORT (default 8000)." }),
    ),
    done,
  );
}

