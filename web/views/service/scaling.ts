// Scale what the live release's Procfile declares: every process type with its running count
// (0 = stopped), replicas and size per type; limits equal the server's (0–20 replicas).
import { api } from "../../api";
import { field, form, h, replace, select, notify } from "../../dom";
import type { Live } from "./state";
import type { ServiceDetail } from "./settings";

export const MAX_REPLICAS = 20; // services/fields.ts processCountsSchema
const CLASSES: [string, string][] = [
  ["nano", "nano (0.25 CPU, 256 MiB)"],
  ["small", "small (0.5 CPU, 512 MiB)"],
  ["medium", "medium (1 CPU, 1 GiB)"],
  ["large", "large (2 CPU, 2 GiB)"],
];

/** Process types of a release: its Procfile's (the one-off `release` phase is not scaled). */
async function processTypes(live: Live): Promise<{ types: string[]; from: string }> {
  const version = live.activity?.live_release_version ?? (live.detail.latest_release as { version?: number } | null)?.version;
  if (version) {
    try {
      const r = await api.get<{ image?: { processes?: Record<string, string | null> } }>(`${live.ctx.base}/releases/${version}`);
      const types = Object.keys(r.image?.processes ?? {}).filter((t) => t !== "release");
      if (types.length) return { types, from: `release v${version}` };
    } catch {
      /* fall back to the stored counts */
    }
  }
  const stored = Object.keys(live.detail.process_counts);
  return { types: stored.length ? stored : ["web"], from: "" };
}

export function scalingPanel(live: Live): HTMLElement {
  const box = h("div", null, h("p", { class: "loading" }, "Loading process types…"));
  const done = h("p", { class: "ok", role: "status" });
  const counts = h("div", { class: "running-counts" });
  const drawCounts = (types: string[]) => {
    const replicas = live.detail.replicas ?? [];
    replace(
      counts,
      h(
        "ul",
        { class: "plain process-list", "aria-label": "Running now" },
        types.map((t) => {
          const running = replicas.filter((r) => r.process === t && r.state === "running").length;
          const wanted = live.detail.process_counts[t] ?? 0;
          return h("li", { "data-process": t }, h("strong", null, t), `: ${running} running${wanted === 0 ? " (stopped)" : ` of ${wanted}`}`);
        }),
      ),
    );
  };
  void processTypes(live).then(({ types, from }) => {
    const svc = live.detail;
    drawCounts(types);
    live.subscribe((w) => w.detail && drawCounts(types));
    replace(
      box,
      from ? h("p", { class: "hint" }, `Process types of ${from} (its Procfile).`) : h("p", { class: "hint" }, "Nothing deployed yet: the counts apply at the first deploy."),
      counts,
      form(
        {
          label: "Scale processes",
          submit: "Apply scale",
          onSubmit: async (v) => {
            done.textContent = "";
            const process_counts: Record<string, number> = {};
            const process_pod_classes: Record<string, string> = {};
            for (const t of types) {
              process_counts[t] = v[`process_counts.${t}`] === "" ? Number.NaN : Number(v[`process_counts.${t}`]);
              process_pod_classes[t] = String(v[`process_pod_classes.${t}`]);
            }
            const updated = await api.post<ServiceDetail>(`/api/v1/applications/${svc.id}/scale`, { process_counts, process_pod_classes });
            live.detail = { ...live.detail, ...updated };
            done.textContent = "Scale applied.";
            notify("Scale applied.");
            drawCounts(types);
            void live.poke();
          },
        },
        types.map((t) =>
          h(
            "fieldset",
            { class: "inline" },
            h("legend", null, t),
            field("Replicas", `process_counts.${t}`, { type: "number", value: String(svc.process_counts[t] ?? (svc.replicas ?? []).filter((r) => r.process === t).length), min: 0, max: MAX_REPLICAS, hint: `0 stops it; at most ${MAX_REPLICAS}.` }),
            select("Size", `process_pod_classes.${t}`, CLASSES, svc.process_pod_classes[t] ?? "small"),
          ),
        ),
      ),
      done,
    );
  });
  return box;
}
