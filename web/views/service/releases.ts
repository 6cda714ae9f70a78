// Release history with each release's image and config changes, and roll back to a chosen one.
import { api, itemsOf } from "../../api";
import { button, empty, h, load, table, when } from "../../dom";

type Release = { id: string; version: number; built?: boolean; error?: boolean; created: string | null; current?: boolean };
type Detail = { image?: Record<string, unknown>; image_changes?: Record<string, unknown>; configuration_changes?: Record<string, unknown>; commit_sha?: string | null };

export function releasesPanel(base: string, onRollback: () => void): HTMLElement {
  const box = h("div");
  const show = () =>
    load(box, "Releases", async () => {
      const releases = itemsOf<Release>(await api.get(`${base}/releases`)).sort((a, b) => b.version - a.version);
      if (!releases.length) return empty("No releases yet. Deploy to create the first one.");
      return table(
        ["Release", "Created", "Changes", ""],
        releases.map((r, i) => [
          `v${r.version}${r.error ? " (failed)" : ""}`,
          when(r.created),
          changes(`${base}/releases/${r.version}`),
          i === 0
            ? h("span", { class: "tag" }, "latest")
            : button(
                `Roll back to v${r.version}`,
                async () => {
                  if (!confirm(`Deploy release v${r.version} again?`)) return;
                  await api.post(`${base}/deploy`, { version: r.version });
                  onRollback();
                },
                { class: "small" },
              ),
        ]),
      );
    });
  void show();
  return box;
}

function changes(detailPath: string): HTMLElement {
  const body = h("div");
  const d = h("details", null, h("summary", null, "Show changes"), body);
  d.addEventListener("toggle", () => {
    if (!d.open || body.childNodes.length) return;
    void load(body, "Release detail", async () => {
      const r = await api.get<Detail>(detailPath);
      return [
        h("p", null, h("strong", null, "Image: "), describe(r.image_changes)),
        h("p", null, h("strong", null, "Config: "), describe(r.configuration_changes)),
        r.commit_sha ? h("p", null, h("strong", null, "Commit: "), h("code", null, r.commit_sha.slice(0, 12))) : null,
      ];
    });
  });
  return d;
}

/** Change maps come as {added:[..], removed:[..], changed:[..]} or {name: change}; names only. */
function describe(c: Record<string, unknown> | undefined): string {
  if (!c || !Object.keys(c).length) return "no changes";
  return Object.entries(c)
    .map(([k, v]) => (Array.isArray(v) ? (v.length ? `${k}: ${v.join(", ")}` : "") : typeof v === "object" && v ? `${k}: ${Object.keys(v).join(", ")}` : `${k}: ${String(v)}`))
    .filter(Boolean)
    .join("; ") || "no changes";
}

