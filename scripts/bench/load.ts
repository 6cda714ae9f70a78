// Loopback load generator: `concurrency` fetch loops against one URL for `seconds` after a warmup;
// prints {requests, errors, rps, p50, p99} (latencies in ms) as JSON on stdout.
export {}; // a module: top-level await below
const spec = JSON.parse(process.argv[2]!) as { url: string; key?: string; concurrency: number; seconds: number; warmup: number };
if (!spec.url.startsWith("http://127.0.0.1:")) throw new Error("benchmarks only send traffic to 127.0.0.1");
const headers: Record<string, string> = spec.key ? { "x-api-key": spec.key } : {};

async function run(ms: number, record: boolean) {
  const latencies: number[] = [];
  let errors = 0;
  const end = performance.now() + ms;
  const loop = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const res = await fetch(spec.url, { headers });
        await res.arrayBuffer();
        if (res.status !== 200) errors++;
      } catch {
        errors++;
      }
      if (record) latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: spec.concurrency }, loop));
  return { latencies, errors };
}

await run(spec.warmup * 1000, false);
const started = performance.now();
const { latencies, errors } = await run(spec.seconds * 1000, true);
const elapsed = (performance.now() - started) / 1000;
latencies.sort((a, b) => a - b);
const pct = (p: number) => latencies[Math.min(latencies.length - 1, Math.ceil((p / 100) * latencies.length) - 1)] ?? NaN;
console.log(JSON.stringify({ requests: latencies.length, errors, rps: latencies.length / elapsed, p50: pct(50), p99: pct(99) }));
