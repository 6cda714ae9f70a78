// Scale per process type and the service settings (health check, timeout, domains, git source).
import { api } from "../../api";
import { field, form, h, select } from "../../dom";

export type ServiceDetail = {
  id: string;
  name: string;
  slug: string;
  process_counts: Record<string, number>;
  process_pod_classes: Record<string, string>;
  health_check_path: string;
  health_check_host: string | null;
  deployment_timeout: number | null;
  upstream_timeout: number;
  domains: string[];
  git_url: string | null;
  github_repository: string | null;
  build_ref: string | null;
  dockerfile_path: string;
  image: string | null;
  port: number;
};

const CLASSES: [string, string][] = [
  ["nano", "nano (0.25 CPU, 256 MiB)"],
  ["small", "small (0.5 CPU, 512 MiB)"],
  ["medium", "medium (1 CPU, 1 GiB)"],
  ["large", "large (2 CPU, 2 GiB)"],
];

export function scaleForm(svc: ServiceDetail, onSaved: (s: ServiceDetail) => void): HTMLElement {
  const types = Object.keys(svc.process_counts).length ? Object.keys(svc.process_counts) : ["web"];
  const done = h("p", { class: "ok", "aria-live": "polite" });
  return h(
    "div",
    null,
    form(
      {
        label: "Scale processes",
        submit: "Apply scale",
        onSubmit: async (v) => {
          const process_counts: Record<string, number> = {};
          const process_pod_classes: Record<string, string> = {};
          for (const t of types) {
            process_counts[t] = v[`process_counts.${t}`] === "" ? Number.NaN : Number(v[`process_counts.${t}`]);
            process_pod_classes[t] = String(v[`process_pod_classes.${t}`]);
          }
          const updated = await api.post<ServiceDetail>(`/api/v1/applications/${svc.id}/scale`, { process_counts, process_pod_classes });
          done.textContent = "Scale applied.";
          onSaved(updated);
        },
      },
      types.map((t) =>
        h(
          "fieldset",
          { class: "inline" },
          h("legend", null, t),
          field("Replicas", `process_counts.${t}`, { type: "number", value: String(svc.process_counts[t] ?? 1), min: 0, max: 100 }),
          select("Size", `process_pod_classes.${t}`, CLASSES, svc.process_pod_classes[t] ?? "small"),
        ),
      ),
    ),
    done,
  );
}

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
          onSaved(updated);
        },
      },
      field("Health check path", "health_check_path", { value: svc.health_check_path, placeholder: "/_health/" }),
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
      field("Container port", "port", { type: "number", value: String(svc.port), min: 1, max: 65535 }),
    ),
    done,
  );
}

