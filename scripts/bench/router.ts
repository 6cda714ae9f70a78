// Requests per second through the ancla router vs straight to the container's published port vs
// Debian's nginx as a reverse proxy to the same container, measured side by side in one run.
//   bun scripts/bench/router.ts [--seconds 8] [--concurrency 32] [--path /index.html] [--backend bun]
// `--backend bun` replaces the container with a keep-alive Bun server (its own process) to
// measure the proxies' own cost; nginx then keeps upstream connections alive as well.
// Each proxy and the load generator run in their own process (one core each at most: the
// router is one Bun process, nginx runs `worker_processes 1`). Traffic stays on 127.0.0.1.
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startRouter } from "../../src/router/proxy";
import { RouteTable } from "../../src/router/table";

const HOST = "app.production.web.bench.localhost";

async function childRouter(backendPort: number): Promise<void> {
  const table = new RouteTable();
  table.setHosts(new Map([[HOST, "svc"]]));
  table.setReplicas("svc", [{ id: "c1", port: backendPort }]);
  const r = startRouter({ hostname: "127.0.0.1", port: 0, table });
  console.log(`PORT ${r.port}`);
  await new Promise(() => {});
}

async function childBackend(): Promise<void> {
  const page = await Bun.file(`${import.meta.dir}/../../test/fixtures/webapp/www/index.html`).text();
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(page, { headers: { "content-type": "text/html" } }) });
  console.log(`PORT ${s.port}`);
  await new Promise(() => {});
}

async function childLoad(url: string, host: string, seconds: number, concurrency: number): Promise<void> {
  let ok = 0;
  let failed = 0;
  const latencies: number[] = [];
  const end = performance.now() + seconds * 1000;
  const worker = async () => {
    while (performance.now() < end) {
      const t0 = performance.now();
      try {
        const res = await fetch(url, { headers: { host } });
        await res.arrayBuffer();
        if (res.status === 200) ok++;
        else failed++;
      } catch {
        failed++;
      }
      if (latencies.length < 200_000) latencies.push(performance.now() - t0);
    }
  };
  await Promise.all(Array.from({ length: concurrency }, worker));
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.floor(q * (latencies.length - 1))] ?? 0;
  console.log(JSON.stringify({ ok, failed, rps: ok / seconds, p50: p(0.5), p99: p(0.99), stalls: latencies.filter((l) => l > 900).length }));
}

function arg(name: string, def: string): string {
  const i = process.argv.indexOf(name);
  return i > 0 ? process.argv[i + 1]! : def;
}

async function readPort(proc: ReturnType<typeof Bun.spawn>): Promise<number> {
  const reader = (proc.stdout as ReadableStream<Uint8Array>).getReader();
  let text = "";
  for (;;) {
    const { value, done } = await reader.read();
    if (done) throw new Error("child exited before printing its port");
    text += new TextDecoder().decode(value);
    const m = /PORT (\d+)/.exec(text);
    if (m) return Number(m[1]);
  }
}

async function load(url: string, seconds: number, concurrency: number) {
  const p = Bun.spawn([process.execPath, import.meta.path, "--child-load", url, HOST, String(seconds), String(concurrency)], { stdout: "pipe", stderr: "inherit" });
  const out = await new Response(p.stdout).text();
  await p.exited;
  return JSON.parse(out.trim().split("\n").pop()!) as { ok: number; failed: number; rps: number; p50: number; p99: number };
}

async function freePort(): Promise<number> {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response() });
  const port = s.port!;
  s.stop(true);
  return port;
}

async function main() {
  const { ensureBaseImage, contextTar, testDocker } = await import("../../test/support/docker");
  const { fixtureFiles } = await import("../../test/fixtures/webapp/support");
  const seconds = Number(arg("--seconds", "8"));
  const concurrency = Number(arg("--concurrency", "32"));
  const path = arg("--path", "/index.html");
  const runId = `bench${Date.now().toString(36)}`;
  await ensureBaseImage();
  const docker = testDocker();
  const tag = `ancla-bench/webapp:${runId}`;
  const stream = await docker.buildImage((await contextTar(fixtureFiles())) as never, { t: tag, labels: { "dev.ancla.bench": runId } });
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
  const bunBackend = arg("--backend", "container") === "bun";
  const container = await docker.createContainer({
    Image: tag,
    Cmd: ["httpd", "-f", "-p", "8000", "-h", "/www"],
    Labels: { "dev.ancla.bench": runId },
    ExposedPorts: { "8000/tcp": {} },
    HostConfig: { PortBindings: { "8000/tcp": [{ HostIp: "127.0.0.1", HostPort: "" }] } },
  });
  const nginxDir = mkdtempSync(join(tmpdir(), "ancla-bench-nginx-"));
  let router: ReturnType<typeof Bun.spawn> | undefined;
  let nginx: ReturnType<typeof Bun.spawn> | undefined;
  let backendProc: ReturnType<typeof Bun.spawn> | undefined;
  try {
    await container.start();
    const info = await container.inspect();
    let backend = Number(info.NetworkSettings.Ports["8000/tcp"]![0]!.HostPort);
    if (bunBackend) {
      backendProc = Bun.spawn([process.execPath, import.meta.path, "--child-backend"], { stdout: "pipe", stderr: "inherit" });
      backend = await readPort(backendProc);
    }
    for (let i = 0; i < 50; i++) {
      if ((await fetch(`http://127.0.0.1:${backend}/_health/`).catch(() => null))?.ok) break;
      await Bun.sleep(100);
    }
    router = Bun.spawn([process.execPath, import.meta.path, "--child-router", String(backend)], { stdout: "pipe", stderr: "inherit" });
    const routerPort = await readPort(router);
    const nginxPort = await freePort();
    writeFileSync(
      join(nginxDir, "nginx.conf"),
      `worker_processes 1;
daemon off;
pid ${nginxDir}/nginx.pid;
error_log ${nginxDir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${nginxDir}/body;
  proxy_temp_path ${nginxDir}/proxy;
  fastcgi_temp_path ${nginxDir}/fastcgi;
  uwsgi_temp_path ${nginxDir}/uwsgi;
  scgi_temp_path ${nginxDir}/scgi;
  upstream app { server 127.0.0.1:${backend};${bunBackend ? " keepalive 64;" : ""} }
  server {
    listen 127.0.0.1:${nginxPort};
    location / {
      proxy_pass http://app;${bunBackend ? '\n      proxy_http_version 1.1;\n      proxy_set_header Connection "";' : ""}
      proxy_set_header Host $host;
      proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
      proxy_set_header X-Forwarded-Proto $scheme;
      proxy_set_header X-Forwarded-Host $host;
    }
  }
}
`,
    );
    nginx = Bun.spawn(["nginx", "-p", nginxDir, "-c", join(nginxDir, "nginx.conf")], { stdout: "inherit", stderr: "inherit" });
    for (let i = 0; i < 50; i++) {
      if ((await fetch(`http://127.0.0.1:${nginxPort}${path}`).catch(() => null))?.ok) break;
      await Bun.sleep(100);
    }
    const targets = {
      direct: `http://127.0.0.1:${backend}${path}`,
      router: `http://127.0.0.1:${routerPort}${path}`,
      nginx: `http://127.0.0.1:${nginxPort}${path}`,
    };
    for (const url of Object.values(targets)) await load(url, 1, concurrency); // warm up
    const results: Record<string, Awaited<ReturnType<typeof load>>> = {};
    // interleaved rounds so drift (other load on the host) hits every target alike
    const rounds = 2;
    for (let r = 0; r < rounds; r++) {
      for (const [name, url] of Object.entries(targets)) {
        const res = await load(url, seconds / rounds, concurrency);
        if (process.env.BENCH_DEBUG) console.error(name, JSON.stringify(res));
        const prev = results[name];
        results[name] = prev
          ? { ok: prev.ok + res.ok, failed: prev.failed + res.failed, rps: (prev.rps * r + res.rps) / (r + 1), p50: Math.max(prev.p50, res.p50), p99: Math.max(prev.p99, res.p99) }
          : res;
      }
    }
    console.log(`\nrouter benchmark: GET ${path} on ${bunBackend ? "a keep-alive Bun backend" : "the busybox fixture container"}, ${concurrency} concurrent clients, ${seconds} s per target\n`);
    console.log("target   req/s     failed  p50 ms  p99 ms");
    for (const [name, r] of Object.entries(results)) {
      console.log(`${name.padEnd(8)} ${r.rps.toFixed(0).padStart(7)}  ${String(r.failed).padStart(6)}  ${r.p50.toFixed(2).padStart(6)}  ${r.p99.toFixed(2).padStart(6)}`);
    }
    const ratio = results.router!.rps / results.nginx!.rps;
    console.log(`\nrouter / nginx = ${(ratio * 100).toFixed(0)}% (target ≥ 80%)   router / direct = ${((results.router!.rps / results.direct!.rps) * 100).toFixed(0)}%`);
  } finally {
    router?.kill();
    backendProc?.kill();
    nginx?.kill("SIGQUIT");
    await nginx?.exited;
    await container.remove({ force: true }).catch(() => {});
    await docker.getImage(tag).remove({ force: true }).catch(() => {});
    rmSync(nginxDir, { recursive: true, force: true });
  }
}

if (process.argv[2] === "--child-backend") await childBackend();
else if (process.argv[2] === "--child-router") await childRouter(Number(process.argv[3]));
else if (process.argv[2] === "--child-load") await childLoad(process.argv[3]!, process.argv[4]!, Number(process.argv[5]), Number(process.argv[6]));
else await main();
