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
            ? h("span", { class: "tag" }, "newest")
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
        h("p", null, h("strong", null, "Image: "), describeImage(r.image_changes as ImageChanges | undefined)),
        h("p", null, h("strong", null, "Config: "), describeConfig(r.configuration_changes as ConfigChanges | undefined)),
        r.commit_sha ? h("p", null, h("strong", null, "Commit: "), h("code", null, r.commit_sha.slice(0, 12))) : null,
      ];
    });
  });
  return d;
}

type ConfigChanges = { added?: string[]; removed?: string[]; changed?: string[]; values?: Record<string, { from?: string; to?: string }> };
type ImageChanges = { changed?: boolean; from?: { version?: number } | null; to?: { version?: number; ref?: string } | null; processes_added?: string[]; processes_removed?: string[] };

/** Names added/changed/removed; values only where the server gives them (never for secrets). */
function describeConfig(c: ConfigChanges | undefined): string {
  if (!c) return "—";
  const values = c.values ?? {};
  const named = (n: string) => {
    const v = values[n];
    return v && (v.from !== undefined || v.to !== undefined) ? `${n} (${v.from ?? "unset"} → ${v.to ?? "unset"})` : n;
  };
  const parts = (["added", "changed", "removed"] as const).filter((k) => c[k]?.length).map((k) => `${k} ${c[k]!.map(named).join(", ")}`);
  return parts.join("; ") || "no changes";
}

function describeImage(c: ImageChanges | undefined): string {
  if (!c) return "—";
  const parts = [c.changed ? `image ${c.from?.version ? `v${c.from.version}` : "none"} → v${c.to?.version ?? "?"}` : "same image"];
  if (c.processes_added?.length) parts.push(`new processes ${c.processes_added.join(", ")}`);
  if (c.processes_removed?.length) parts.push(`removed processes ${c.processes_removed.join(", ")}`);
  return parts.join("; ");
}
