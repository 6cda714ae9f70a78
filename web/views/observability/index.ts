// CPU, memory and replica charts over a chosen range, drawn as inline SVG from the observability
// route, with the value under the pointer (or keyboard focus) shown, and an empty state that says
// why there is nothing to draw (no running replica, or the sampler has not ticked yet).
import { api } from "../../api";
import { h, load, svg, table } from "../../dom";

type Point = { timestamp: string | null; cpu_usage_m: number | null; memory_usage_bytes: number | null; pod_count: number | null; restart_count?: number | null };
type ReplicaUsage = { process: string; replica: number; state: string; running: boolean; restart_count: number; cpu_usage_m: number | null; memory_usage_bytes: number | null; sampled_at: string };
type MetricsGap = { reason: string; message: string; since: string };
type Response = { range: string; step?: number; sample_interval?: number; history: Point[]; replicas?: ReplicaUsage[]; metrics_unavailable?: MetricsGap | null };
const RANGES = ["1h", "6h", "24h", "7d", "30d"] as const;

const mib = (v: number) => (v >= 1073741824 ? `${(v / 1073741824).toFixed(2)} GiB` : `${(v / 1048576).toFixed(1)} MiB`);
const cpu = (v: number) => `${Math.round(v)} m`;

/** Why a range has no data, in words. */
export function emptyReason(r: Response, runningNow: number | null): string {
  if (r.metrics_unavailable) return gapText(r.metrics_unavailable);
  const sampled = (r.replicas ?? []).filter((x) => x.running).length;
  if ((runningNow ?? sampled) === 0) return `No running replicas in the last ${r.range}: there is nothing to measure. Deploy, or scale a process above 0.`;
  return `The sampler has not recorded this service yet: it reads usage every ${r.sample_interval ?? 15} s, so the first points appear within a minute.`;
}

/** Why a cluster gives no CPU/memory numbers, in words. */
export function gapText(g: MetricsGap): string {
  const what = g.reason === "metrics_server_missing" ? "The cluster has no metrics server (metrics.k8s.io), so there is no CPU or memory to show; replica counts still come from its pods." : g.reason === "cluster_unreachable" ? "The cluster's API server does not answer." : "The cluster gives no usage numbers now.";
  return `${what} ${g.message} (since ${stamp(g.since)})`;
}

/** `source` is the observability route for one service, without the range parameter. */
export function observabilityPanel(source: string, opts: { initial?: string; running?: () => number } = {}): HTMLElement {
  const initial = opts.initial ?? "1h";
  const charts = h("div", { class: "charts" });
  const buttons = RANGES.map((r) => h("button", { type: "button", class: "small", "aria-pressed": String(r === initial), onclick: () => pick(r) }, r));
  const pick = (range: string) => {
    buttons.forEach((b) => b.setAttribute("aria-pressed", String(b.textContent === range)));
    void load(charts, "Observability", async () => {
      const r = await api.get<Response>(`${source}&range=${range}`);
      // buckets with no sample at all are gaps, not zeros: a range of them is no data
      const pts = (r.history ?? []).filter((p) => p.timestamp);
      const hasData = pts.some((p) => p.cpu_usage_m !== null || p.memory_usage_bytes !== null || p.pod_count !== null);
      const usage = replicaUsage(r.replicas ?? []);
      if (!hasData) return [h("p", { class: "empty", "data-empty": "metrics" }, emptyReason(r, opts.running ? opts.running() : null)), usage];
      const gap = r.metrics_unavailable ? h("p", { class: "empty", "data-empty": "cluster-metrics", role: "status" }, gapText(r.metrics_unavailable)) : null;
      return [
        gap,
        chart("CPU", "millicores", pts, (p) => p.cpu_usage_m, cpu),
        chart("Memory", "bytes without page cache", pts, (p) => p.memory_usage_bytes, mib),
        chart("Replicas", "running", pts, (p) => p.pod_count, (v) => String(Math.round(v))),
        usage,
      ];
    });
  };
  pick(initial);
  return h("div", null, h("div", { class: "range", role: "group", "aria-label": "Time range" }, buttons), charts);
}

function replicaUsage(list: ReplicaUsage[]): HTMLElement | null {
  if (!list.length) return null;
  return table(
    ["Replica", "State", "Restarts", "CPU now", "Memory now"],
    list.map((r) => [`${r.process}.${r.replica}`, h("span", { class: `replica-state ${r.state}` }, r.state), r.restart_count, r.cpu_usage_m === null ? "—" : cpu(r.cpu_usage_m), r.memory_usage_bytes === null ? "—" : mib(r.memory_usage_bytes)]),
    "Usage per replica at the last sample",
  );
}

const W = 600;
const H = 140;
const PAD = 4;
const stamp = (iso: string) => new Date(iso).toLocaleString([], { month: "short", day: "numeric", hour: "2-digit", minute: "2-digit", hour12: false });

export function chart(title: string, unit: string, pts: Point[], get: (p: Point) => number | null, fmt: (v: number) => string): HTMLElement {
  const t0 = Date.parse(pts[0]!.timestamp!);
  const t1 = Date.parse(pts[pts.length - 1]!.timestamp!);
  const values = pts.map(get);
  const nums = values.filter((v): v is number => typeof v === "number");
  const max = Math.max(1e-9, ...nums) * 1.1;
  const xf = (p: Point) => (Date.parse(p.timestamp!) - t0) / Math.max(1, t1 - t0);
  const x = (p: Point) => PAD + xf(p) * (W - 2 * PAD);
  const y = (v: number) => H - PAD - (v / max) * (H - 2 * PAD);
  // break the line where a bucket has no sample instead of drawing through the gap
  let d = "";
  let pen = false;
  const dots: SVGElement[] = [];
  pts.forEach((p, i) => {
    const v = values[i];
    if (typeof v !== "number") return void (pen = false);
    const isolated = typeof values[i - 1] !== "number" && typeof values[i + 1] !== "number";
    if (isolated) dots.push(svg("circle", { cx: x(p).toFixed(1), cy: y(v).toFixed(1), r: 2.5, class: "dot" }));
    d += `${pen ? "L" : "M"}${x(p).toFixed(1)},${y(v).toFixed(1)}`;
    pen = true;
  });
  const last = nums[nums.length - 1];
  const cursor = svg("line", { x1: 0, x2: 0, y1: 0, y2: H, class: "cursor", visibility: "hidden" });
  const tip = h("div", { class: "tip", hidden: true, role: "status" });
  const plot = svg(
    "svg",
    { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-label": `${title} (${unit}) over time; peak ${fmt(Math.max(0, ...nums))}`, preserveAspectRatio: "none" },
    svg("line", { x1: PAD, y1: H - PAD, x2: W - PAD, y2: H - PAD, class: "axis" }),
    svg("path", { d, class: "line" }),
    dots,
    cursor,
  );
  const area = h("div", { class: "plot", tabindex: "0", "aria-label": `${title}: use the arrow keys to read values` }, plot, tip);
  let at = -1;
  const showAt = (i: number) => {
    at = Math.max(0, Math.min(pts.length - 1, i));
    const p = pts[at]!;
    const v = values[at];
    const fx = xf(p);
    cursor.setAttribute("x1", String(x(p)));
    cursor.setAttribute("x2", String(x(p)));
    cursor.setAttribute("visibility", "visible");
    tip.hidden = false;
    tip.textContent = `${stamp(p.timestamp!)}: ${typeof v === "number" ? fmt(v) : "no sample"}`;
    tip.style.left = `${Math.round(fx * 100)}%`;
    tip.classList.toggle("flip", fx > 0.6);
  };
  const hide = () => {
    cursor.setAttribute("visibility", "hidden");
    tip.hidden = true;
  };
  area.addEventListener("pointermove", (ev) => {
    const box = area.getBoundingClientRect();
    const fx = (ev.clientX - box.left) / Math.max(1, box.width);
    // nearest bucket by time
    const t = t0 + fx * (t1 - t0);
    let best = 0;
    pts.forEach((p, i) => {
      if (Math.abs(Date.parse(p.timestamp!) - t) < Math.abs(Date.parse(pts[best]!.timestamp!) - t)) best = i;
    });
    showAt(best);
  });
  area.addEventListener("pointerleave", hide);
  area.addEventListener("blur", hide);
  area.addEventListener("keydown", (ev) => {
    if (ev.key === "ArrowLeft" || ev.key === "ArrowRight") {
      ev.preventDefault();
      showAt(at < 0 ? pts.length - 1 : at + (ev.key === "ArrowLeft" ? -1 : 1));
    } else if (ev.key === "Escape") hide();
  });
  return h(
    "figure",
    { class: "chart", "data-chart": title.toLowerCase() },
    h("figcaption", null, h("strong", null, title), ` (${unit}) — now ${last === undefined ? "—" : fmt(last)}, peak ${fmt(Math.max(0, ...nums))}`),
    area,
    h("div", { class: "axis-labels", "aria-hidden": "true" }, h("span", null, stamp(pts[0]!.timestamp!)), h("span", null, stamp(pts[pts.length - 1]!.timestamp!))),
  );
}

