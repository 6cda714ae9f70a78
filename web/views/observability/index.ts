// CPU, memory and replica charts over a chosen range, drawn as inline SVG from the observability route.
import { api } from "../../api";
import { empty, h, load, svg } from "../../dom";

type Point = { timestamp: string | null; cpu_usage_m: number | null; memory_usage_bytes: number | null; pod_count: number | null };
const RANGES = ["1h", "6h", "24h", "7d", "30d"] as const;

/** `source` is the observability route for one service, without the range parameter. */
export function observabilityPanel(source: string): HTMLElement {
  const charts = h("div", { class: "charts" });
  const buttons = RANGES.map((r) => h("button", { type: "button", class: "small", "aria-pressed": r === "24h" ? "true" : "false", onclick: () => pick(r) }, r));
  const pick = (range: string) => {
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.textContent === range)));
    void load(charts, "Observability", async () => {
      const r = await api.get<{ history: Point[] }>(`${source}&range=${range}`);
      const pts = (r.history ?? []).filter((p) => p.timestamp);
      if (!pts.length) return empty(`No samples in the last ${range} yet.`);
      return [
        chart("CPU (millicores)", pts, (p) => p.cpu_usage_m, (v) => `${Math.round(v)} m`),
        chart("Memory", pts, (p) => p.memory_usage_bytes, (v) => `${(v / 1048576).toFixed(1)} MiB`),
        chart("Replicas", pts, (p) => p.pod_count, (v) => String(Math.round(v))),
      ];
    });
  };
  pick("24h");
  return h("div", null, h("div", { class: "range", role: "group", "aria-label": "Time range" }, buttons), charts);
}

const W = 600;
const H = 140;
const PAD = 4;

function chart(title: string, pts: Point[], get: (p: Point) => number | null, fmt: (v: number) => string): HTMLElement {
  const t0 = Date.parse(pts[0]!.timestamp!);
  const t1 = Date.parse(pts[pts.length - 1]!.timestamp!);
  const values = pts.map(get);
  const nums = values.filter((v): v is number => typeof v === "number");
  const max = Math.max(1, ...nums);
  const x = (p: Point) => PAD + ((Date.parse(p.timestamp!) - t0) / Math.max(1, t1 - t0)) * (W - 2 * PAD);
  const y = (v: number) => H - PAD - (v / max) * (H - 2 * PAD);
  // break the line where a sample is missing instead of drawing through the gap
  let d = "";
  let pen = false;
  pts.forEach((p, i) => {
    const v = values[i];
    if (typeof v !== "number") return void (pen = false);
    d += `${pen ? "L" : "M"}${x(p).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  const last = nums[nums.length - 1];
  return h(
    "figure",
    { class: "chart" },
    h("figcaption", null, `${title} — now ${last === undefined ? "—" : fmt(last)}, peak ${fmt(Math.max(0, ...nums))}`),
    svg(
      "svg",
      { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title} over time`, preserveAspectRatio: "none" },
      svg("line", { x1: PAD, y1: H - PAD, x2: W - PAD, y2: H - PAD, class: "axis" }),
      pts.length === 1 && last !== undefined ? svg("circle", { cx: W / 2, cy: y(last), r: 3, class: "dot" }) : svg("path", { d, class: "line" }),
    ),
  );
}
