// Rate-limited warnings: a failing backend hammered by clients would otherwise write one line per
// request (20,000 lines in one test run). The first occurrence of a key is written at once; later
// ones within the window are counted and reported with the next line written for that key.
export type Warn = (message: string, fields: Record<string, unknown>) => void;

const MAX_KEYS = 1000;

export function rateLimitedWarn(write: Warn | undefined, windowMs = 10_000, now = () => Date.now()): Warn {
  const seen = new Map<string, { until: number; suppressed: number }>();
  return (message, fields) => {
    if (!write) return;
    // the key leaves out per-request values (request ids) so identical failures collapse
    const { request_id: _ignored, ...rest } = fields;
    const key = message + "\u0000" + JSON.stringify(rest);
    const t = now();
    const entry = seen.get(key);
    if (entry && entry.until > t) {
      entry.suppressed++;
      return;
    }
    if (!entry && seen.size >= MAX_KEYS) {
      // drop expired keys first; if all are live, forget the oldest (Map keeps insertion order)
      for (const [k, v] of seen) if (v.until <= t) seen.delete(k);
      if (seen.size >= MAX_KEYS) seen.delete(seen.keys().next().value!);
    }
    const suppressed = entry?.suppressed ?? 0;
    seen.delete(key);
    seen.set(key, { until: t + windowMs, suppressed: 0 });
    write(message, suppressed ? { ...fields, suppressed, suppressed_window_s: windowMs / 1000 } : fields);
  };
}
