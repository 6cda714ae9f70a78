// Settings → Volumes: a service's persistent volumes (name, mount path, size hint), added and
// removed here; they are mounted into every process from the next deploy on. Removing one stops
// mounting it and keeps its data (the API and README say where it goes).
import { api } from "../../api";
import { button, empty, field, form, h, load, notify, table } from "../../dom";

type Volume = { name: string; mount_path: string; size_hint: string | null; docker_volume: string; created: string };

export function volumesPanel(base: string, mayEdit: boolean): HTMLElement {
  const list = h("div", { class: "volumes" });
  const reload = () =>
    load(list, "Volumes", async () => {
      const rows = await api.get<Volume[]>(`${base}/volumes`);
      if (!rows.length) return empty("No volumes: files written by the app are lost at the next deploy.");
      return table(
        ["Name", "Mounted at", "Size hint", "Docker volume", ""],
        rows.map((v) => [
          v.name,
          h("code", null, v.mount_path),
          v.size_hint ?? "—",
          h("code", null, v.docker_volume),
          mayEdit
            ? button(
                `Remove ${v.name}`,
                async () => {
                  if (!confirm(`Stop mounting ${v.name} from the next deploy on? Its data is kept.`)) return;
                  await api.del(`${base}/volumes/${encodeURIComponent(v.name)}`);
                  notify(`Volume ${v.name} will not be mounted from the next deploy on; its data is kept.`);
                  await reload();
                },
                { class: "small" },
              )
            : "",
        ]),
        "Persistent volumes",
      );
    });
  void reload();
  const add = mayEdit
    ? form(
        {
          label: "Add a volume",
          submit: "Add volume",
          onSubmit: async (v, f) => {
            const body: Record<string, string> = { name: String(v.name), mount_path: String(v.mount_path) };
            if (v.size_hint) body.size_hint = String(v.size_hint);
            await api.post(`${base}/volumes`, body);
            f.reset();
            notify(`Volume ${body.name} added: deploy to mount it.`);
            await reload();
          },
        },
        field("Name", "name", { required: true, placeholder: "data" }),
        field("Mount path", "mount_path", { required: true, placeholder: "/data" }),
        field("Size hint", "size_hint", { placeholder: "10Gi", hint: "Shown and kept for Kubernetes; Docker volumes have no quota." }),
      )
    : null;
  return h(
    "div",
    null,
    h("p", { class: "hint" }, "Mounted into every process (web, workers, the release phase, one-off runs) and kept across deploys, rollbacks and restarts. Back up with ", h("code", null, "ancla volumes backup"), "."),
    list,
    add,
  );
}
