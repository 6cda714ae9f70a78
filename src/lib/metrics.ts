// The request instruments of one server (one set per database, like the route table: nothing
// process-wide, so test servers in one process never mix their counts).
//
// Counted in plain structures, not prom-client: a request adds 1 to a number and one bucket slot of
// its series (held by the caller, looked up once per label set), where prom-client hashes a labels
// object and searches the bucket bounds on every observation (several µs per request on the hot
// path), and loading prom-client costs start-up time. The exposition (observability/exposition.ts)
// loads prom-client when /metrics is scraped and hands it these values as they are (`samples`).

export const LATENCY_BUCKETS: readonly number[] = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30];

type Labels = Record<string, string>;

/** One label set of a counter: `inc()` adds 1. */
export type CounterSeries = { readonly labels: Labels; value: number; inc: () => void };
/** One label set of a histogram: per-bucket (not cumulative) counts, one slot past the last bound, sum and count. */
export type HistogramSeries = { readonly labels: Labels; readonly counts: Float64Array; sum: number; count: number; observe: (value: number) => void };

/** What the exposition needs of an instrument: its name, help, type and current series. */
export type Instrument = { readonly name: string; readonly help: string; readonly labelNames: readonly string[] };

/** A key of a label set in the instrument's label order (values are joined by a character no label holds unescaped). */
const keyOf = (names: readonly string[], labels: Labels) => {
  let k = "";
  for (const n of names) k += labels[n] + "\u0000";
  return k;
};

/** The series of an instrument by label set, each made once (in the instrument's label order) and kept. */
abstract class SeriesStore<S> implements Instrument {
  readonly series = new Map<string, S>();
  constructor(
    readonly name: string,
    readonly help: string,
    readonly labelNames: readonly string[],
  ) {}
  protected abstract make(labels: Labels): S;
  /** The series of these labels (created empty on first use); keep it to record without a lookup. */
  labels(labels: Labels): S {
    const key = keyOf(this.labelNames, labels);
    let s = this.series.get(key);
    if (!s) {
      const own: Labels = {};
      for (const n of this.labelNames) own[n] = labels[n]!;
      this.series.set(key, (s = this.make(own)));
    }
    return s;
  }
}

export class CounterStore extends SeriesStore<CounterSeries> {
  protected make(labels: Labels): CounterSeries {
    const made: CounterSeries = { labels, value: 0, inc: () => void made.value++ };
    return made;
  }
  inc(labels: Labels): void {
    this.labels(labels).value++;
  }
}

export class HistogramStore extends SeriesStore<HistogramSeries> {
  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, labelNames);
  }
  protected make(labels: Labels): HistogramSeries {
    const bounds = this.buckets;
    const made: HistogramSeries = {
      labels,
      counts: new Float64Array(bounds.length + 1),
      sum: 0,
      count: 0,
      observe: (value: number) => {
        let i = 0;
        while (i < bounds.length && value > bounds[i]!) i++;
        made.counts[i]!++;
        made.sum += value;
        made.count++;
      },
    };
    return made;
  }
  observe(labels: Labels, value: number): void {
    this.labels(labels).observe(value);
  }
}

export type ServerMetrics = {
  httpRequests: CounterStore;
  httpDuration: HistogramStore;
  routerRequests: CounterStore;
  routerDuration: HistogramStore;
};

const stores = new WeakMap<object, ServerMetrics>();

export function metricsOf(deps: { db: object }): ServerMetrics {
  let m = stores.get(deps.db);
  if (m) return m;
  const serviceLabels = ["org", "project", "env", "service"] as const;
  m = {
    httpRequests: new CounterStore("ancla_http_requests_total", "API requests by route template and status", ["method", "route", "status"]),
    httpDuration: new HistogramStore("ancla_http_request_duration_seconds", "API request duration until the response is sent", ["method", "route"], LATENCY_BUCKETS),
    routerRequests: new CounterStore("ancla_router_requests_total", "App requests through the router by service and status", [...serviceLabels, "status"]),
    routerDuration: new HistogramStore("ancla_router_response_seconds", "Router time until the app's response headers", serviceLabels, LATENCY_BUCKETS),
  };
  stores.set(deps.db, m);
  return m;
}

/** A sample as prom-client's Registry formats it (the shape its own metrics' getForPromString returns). */
export type Sample = { value: number; labels: Record<string, string | number>; sharedLabels?: Labels; metricName?: string };

/**
 * The samples of an instrument in prom-client's order and shape, so that its text is the one
 * prom-client's own Counter/Histogram would write for the same observations: per series, a
 * counter's value; a histogram's cumulative buckets (`le` per bound, then +Inf), sum and count.
 */
export function samples(instrument: CounterStore | HistogramStore): Sample[] {
  const out: Sample[] = [];
  if (instrument instanceof CounterStore) {
    // a series only looked up (never counted) is not in prom-client's output either
    for (const s of instrument.series.values()) if (s.value !== 0) out.push({ value: s.value, labels: s.labels });
    return out;
  }
  const bucket = `${instrument.name}_bucket`;
  for (const s of instrument.series.values()) {
    if (s.count === 0) continue;
    let acc = 0;
    instrument.buckets.forEach((le, i) => {
      acc += s.counts[i]!;
      out.push({ value: acc, labels: { le }, sharedLabels: s.labels, metricName: bucket });
    });
    out.push({ value: s.count, labels: { le: "+Inf" }, sharedLabels: s.labels, metricName: bucket });
    out.push({ value: s.sum, labels: {}, sharedLabels: s.labels, metricName: `${instrument.name}_sum` });
    out.push({ value: s.count, labels: {}, sharedLabels: s.labels, metricName: `${instrument.name}_count` });
  }
  return out;
}
