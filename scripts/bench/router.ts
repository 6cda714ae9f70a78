// The app router under wrk, side by side in one run: straight to a keep-alive Bun backend, through
// nginx (worker_processes 1, keep-alive upstream) and through the router; HTTP and HTTPS; a small
// page and a 1 MiB body. Rounds interleave the targets so a busy machine hurts all alike.
//   bun scripts/bench/router.ts [--seconds 5] [--rounds 3] [--concurrency 32]
// Each server is its own process (the router one Bun process, nginx one worker); wrk runs with one
// thread and its own CPU time is reported, so a saturated load generator shows. Loopback only.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { startRouter } from "../../src/router/proxy";
import { RouteTable } from "../../src/router/table";
import { startNginx } from "../../test/support/raw-http";

const HOST = "app.production.web.bench.localhost";
const BIG = 1024 * 1024;

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
}

async function childBackend(cert: string, key: string): Promise<void> {
  const page = await Bun.file(`${import.meta.dir}/../../test/fixtures/webapp/www/index.html`).text();
  const big = new Uint8Array(BIG).fill(97);
  const fetch = (req: Request) =>
    req.url.endsWith("/big") ? new Response(big, { headers: { "content-type": "application/octet-stream" } }) : new Response(page, { headers: { "content-type": "text/html" } });
  const plain = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch });
  const tls = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch, tls: { cert: Bun.file(cert), key: Bun.file(key) } });
  console.log(`PORTS ${plain.port} ${tls.port}`);
  await new Promise(() => {});
}

async function childRouter(backendPort: number, cert: string, key: string): Promise<void> {
  const table = new RouteTable();
  table.setHosts(new Map([[HOST, "svc"]]));
  table.setReplicas("svc", [{ id: "c1", port: backendPort }]);
  const certificates = [{ cert: await Bun.file(cert).text(), key: await Bun.file(key).text() }];
  const r = startRouter({ hostname: "127.0.0.1", port: 0, table, maxPerClient: 100_000, https: { hostname: "127.0.0.1", port: 0, certificates } });
  console.log(`PORTS ${r.port} ${r.httpsPort}`);
  await new Promise(() => {});
}

/** The floor for any fetch-based proxy: Bun.serve in, fetch out, nothing else (no header rules, timeouts or limits). */
async function childBare(backendPort: number): Promise<void> {
  const s = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch: (req) => fetch(`http://127.0.0.1:${backendPort}${new URL(req.url).pathname}`, { method: req.method, headers: req.headers, redirect: "manual", decompress: false } as RequestInit),
  });
  console.log(`PORTS ${s.port}`);
  await new Promise(() => {});
}

async function spawnChild(args: string[]): Promise<{ ports: number[]; proc: Subprocess }> {
  const proc = Bun.spawn([process.execPath, import.meta.path, ...args], { stdout: "pipe", stderr: "inherit" });
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  while (!/PORTS [\d ]+\n/.test(text)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`child ${args.join(" ")} ended: ${text}`);
    text += new TextDecoder().decode(value);
  }
  return { ports: /PORTS ([\d ]+)\n/.exec(text)![1]!.trim().split(" ").map(Number), proc };
}

type Result = { rps: number; p50: number; p99: number; errors: number; wrkCpu: number };

/** wrk's "50%  1.23ms" lines → milliseconds. */
const ms = (text: string, pct: string): number => {
  const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s)\\s*$`, "m").exec(text);
  if (!m) return NaN;
  return Number(m[1]) * (m[2] === "us" ? 0.001 : m[2] === "s" ? 1000 : 1);
};

async function wrk(url: string, seconds: number, concurrency: number): Promise<Result> {
  const proc = Bun.spawn(["wrk", "-t1", `-c${concurrency}`, `-d${seconds}s`, "--latency", "-H", `Host: ${HOST}`, url], { stdout: "pipe", stderr: "pipe" });
  const out = await new Response(proc.stdout).text();
  await proc.exited;
  const usage = proc.resourceUsage();
  const cpu = usage ? Number(usage.cpuTime.user + usage.cpuTime.system) / 1e6 : NaN;
  const errors = /Non-2xx or 3xx responses: (\d+)/.exec(out)?.[1] ?? "0";
  const socketErrors = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const sock = socketErrors ? socketErrors.slice(1).reduce((a, b) => a + Number(b), 0) : 0;
  return { rps: Number(/Requests\/sec:\s+([\d.]+)/.exec(out)?.[1] ?? NaN), p50: ms(out, "50"), p99: ms(out, "99"), errors: Number(errors) + sock, wrkCpu: cpu / seconds };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

async function main(): Promise<void> {
  const seconds = arg("seconds", 5);
  const rounds = arg("rounds", 3);
  const concurrency = arg("concurrency", 32);
  const dir = mkdtempSync(join(tmpdir(), "ancla-bench-router-"));
  const cert = join(dir, "cert.pem");
  const key = join(dir, "key.pem");
  Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-keyout", key, "-out", cert, "-subj", `/CN=${HOST}`]);
  const backend = await spawnChild(["--child", "backend", cert, key]);
  const router = await spawnChild(["--child", "router", String(backend.ports[0]), cert, key]);
  const bare = await spawnChild(["--child", "bare", String(backend.ports[0])]);
  const nginx = await startNginx(backend.ports[0]!);
  const nginxTls = await startNginx(backend.ports[0]!, { tls: { cert, key } });
  const targets: Record<string, string> = {
    "direct http": `http://127.0.0.1:${backend.ports[0]}`,
    "nginx http": `http://127.0.0.1:${nginx.port}`,
    "router http": `http://127.0.0.1:${router.ports[0]}`,
    "bare-fetch http": `http://127.0.0.1:${bare.ports[0]}`,
    "direct https": `https://127.0.0.1:${backend.ports[1]}`,
    "nginx https": `https://127.0.0.1:${nginxTls.port}`,
    "router https": `https://127.0.0.1:${router.ports[1]}`,
  };
  const results = new Map<string, Result[]>();
  console.log(`load average at start: ${(await Bun.file("/proc/loadavg").text()).trim()}; wrk -t1 -c${concurrency}, ${seconds} s × ${rounds} rounds`);
  try {
    for (let round = 0; round < rounds; round++) {
      for (const path of ["/", "/big"]) {
        for (const [name, base] of Object.entries(targets)) {
          const r = await wrk(`${base}${path}`, seconds, concurrency);
          const k = `${name} ${path === "/" ? "small" : "1 MiB"}`;
          results.set(k, [...(results.get(k) ?? []), r]);
        }
      }
    }
  } finally {
    for (const p of [backend.proc, router.proc, bare.proc]) p.kill();
    await Promise.all([nginx.stop(), nginxTls.stop()]);
    rmSync(dir, { recursive: true, force: true });
  }
  console.log(`load average at end: ${(await Bun.file("/proc/loadavg").text()).trim()}`);
  console.log("\n| target | body | req/s (median) | p50 ms | p99 ms | errors | wrk CPU | vs nginx |");
  console.log("|---|---|---|---|---|---|---|---|");
  for (const [k, rs] of results) {
    const [target, proto, ...body] = k.split(" ");
    const rps = median(rs.map((r) => r.rps));
    const nginxRps = median((results.get(`nginx ${proto} ${body.join(" ")}`) ?? rs).map((r) => r.rps));
    const row = [`${target} ${proto}`, body.join(" "), rps.toFixed(0), median(rs.map((r) => r.p50)).toFixed(2), median(rs.map((r) => r.p99)).toFixed(2), String(rs.reduce((a, r) => a + r.errors, 0)), `${(median(rs.map((r) => r.wrkCpu)) * 100).toFixed(0)}%`, (rps / nginxRps).toFixed(2) + "×"];
    console.log(`| ${row.join(" | ")} |`);
  }
}

if (process.argv[2] === "--child") {
  if (process.argv[3] === "backend") await childBackend(process.argv[4]!, process.argv[5]!);
  else if (process.argv[3] === "bare") await childBare(Number(process.argv[4]));
  else await childRouter(Number(process.argv[4]), process.argv[5]!, process.argv[6]!);
} else {
  await main();
  process.exit(0);
}
