// Benchmark (a): `ancla deploy` of the fixture web app next to a script doing the same by hand
// with the docker CLI — `docker build`, `docker run` of the same container (port published on
// 127.0.0.1, a user-defined network with an alias, the `small` limits, restart policy), poll the
// health path until 200, remove the previous container — every command spawned with an argument
// array (no shell). Rounds alternate between the two; each round changes one page so both really
// rebuild the COPY layer. Both use Docker's legacy builder (ancla uses it through the Engine API;
// DOCKER_BUILDKIT=0 for the CLI). Target: ancla ≤ 1.25× the raw script (median of the rounds).
//
// Usage: bun scripts/bench/deploy.ts [--rounds 5]   (ANCLA_BIN=path to use a given binary;
// otherwise src/main.ts is compiled into a temporary binary first, as users run it)
import { cpSync, existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { COMPILE_ARGS } from "../build";
import { ensureBaseImage, removeLabelled, RUN_ID, testDocker } from "../../test/support/docker";
import { startLiveServer, type LiveServer } from "../../test/support/server";
import { fmt, percentile, tempDir } from "./lib";

const ROOT = resolve(import.meta.dir, "../..");
const roundsArg = process.argv.indexOf("--rounds");
const ROUNDS = roundsArg > 0 ? Number(process.argv[roundsArg + 1]) : 5;
const ORG = `bench${RUN_ID}`.toLowerCase();
const RAW_NAME = `ancla-bench-raw-${RUN_ID}`;

function run(argv: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): string {
  const p = Bun.spawnSync(argv, { cwd: opts.cwd ?? ROOT, env: { ...process.env, ...opts.env }, stdout: "pipe", stderr: "pipe" });
  if (p.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${p.exitCode}): ${p.stderr.toString()}`);
  return p.stdout.toString();
}

async function binary(): Promise<{ bin: string; cleanup: () => void }> {
  if (process.env.ANCLA_BIN) return { bin: resolve(process.env.ANCLA_BIN), cleanup: () => {} };
  const dir = tempDir("ancla-bench-bin-");
  run([process.execPath, "scripts/gen-migrations.ts"]);
  run([process.execPath, ...COMPILE_ARGS, "--outfile", join(dir, "ancla")]);
  return { bin: join(dir, "ancla"), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/** The fixture app without its Procfile: one web process, the image's CMD (what the raw script runs). */
function appDir(): string {
  const dir = tempDir("ancla-bench-app-");
  cpSync(resolve(ROOT, "test/fixtures/webapp"), dir, { recursive: true, filter: (src) => !src.endsWith("support.ts") && !src.endsWith("Procfile") });
  return dir;
}
const touch = (dir: string, round: number, who: string) => writeFileSync(join(dir, "www", "index.html"), `<h1>hello from the webapp</h1><p>${who} round ${round}</p>\n`);

async function waitHealthy(port: number, deadlineMs = 60_000): Promise<void> {
  const end = Date.now() + deadlineMs;
  for (;;) {
    try {
      const res = await fetch(`http://127.0.0.1:${port}/_health/`);
      await res.arrayBuffer();
      if (res.status >= 200 && res.status < 400) return;
    } catch {}
    if (Date.now() > end) throw new Error(`no healthy answer on 127.0.0.1:${port}`);
    await Bun.sleep(50);
  }
}

/** The by-hand deploy: build, run the new container, wait for health, remove the old one. */
async function rawDeploy(dir: string, round: number): Promise<number> {
  const t0 = performance.now();
  const tag = `${RAW_NAME}:r${round}`;
  run(["docker", "build", "-q", "-t", tag, "--label", `dev.ancla.test-run=${RUN_ID}`, dir], { env: { DOCKER_BUILDKIT: "0" } });
  const built = performance.now();
  const name = `${RAW_NAME}-r${round}`;
  // the container ancla starts: its own network with an alias, the `small` limits, restart policy
  run([
    "docker", "run", "-d", "--name", name, "--label", `dev.ancla.test-run=${RUN_ID}`, "-e", "PORT=8000", "-p", "127.0.0.1::8000",
    "--network", RAW_NAME, "--network-alias", "app.production", "--memory", "512m", "--cpus", "0.5", "--restart", "unless-stopped", tag,
  ]);
  const port = Number(run(["docker", "port", name, "8000/tcp"]).trim().split("\n")[0]!.split(":").pop());
  await waitHealthy(port);
  if (round > 0) run(["docker", "rm", "-f", `${RAW_NAME}-r${round - 1}`]);
  if (process.env.BENCH_BREAKDOWN) console.log(`  raw: build ${((built - t0) / 1000).toFixed(2)}s, run + health + remove old ${((performance.now() - built) / 1000).toFixed(2)}s`);
  return performance.now() - t0;
}

async function anclaDeploy(s: LiveServer, bin: string, dir: string): Promise<{ ms: number; url: string }> {
  const t0 = performance.now();
  const p = Bun.spawn([bin, "deploy", "--json"], { cwd: dir, env: { ...process.env, HOME: s.home, ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey }, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`ancla deploy failed (${code}): ${err}`);
  const data = JSON.parse(out);
  if (process.env.BENCH_BREAKDOWN) await breakdown(s, data.pipeline_id, t0);
  // untimed: the CLI returns once the new release serves, while the server still stops the old
  // replica gracefully (busybox httpd ignores SIGTERM: SIGKILL after 3 s). Each measured round
  // starts from an idle service, as each raw round does.
  for (let i = 0; i < 300; i++) {
    const r = await fetch(`${s.url}/api/v1/orgs/${ORG}/projects/web/pipeline/runs/${data.pipeline_id}`, { headers: { "x-api-key": s.adminKey } });
    if ((((await r.json()) as { status: string }).status) !== "running") break;
    await Bun.sleep(100);
  }
  return { ms, url: data.url };
}

/** Where an ancla deploy spends its time (BENCH_BREAKDOWN=1). */
async function breakdown(s: LiveServer, runId: string, t0: number) {
  const get = async (path: string) => (await fetch(s.url + path, { headers: { "x-api-key": s.adminKey } })).json() as Promise<any>;
  const run = await get(`/api/v1/orgs/${ORG}/projects/web/pipeline/runs/${runId}`);
  const img = await get(`/api/v1/images/${run.image.id}/detail`);
  const dep = await get(`/api/v1/deployments/${run.deployment.id}/detail`);
  const jobs = await get(`/api/v1/orgs/${ORG}/projects/web/pipeline/history?service=app&limit=1`);
  const origin = performance.timeOrigin + t0;
  const rel = (iso: string | null) => (iso ? `${((Date.parse(iso) - origin) / 1000).toFixed(2)}s` : "-");
  console.log(`  created ${rel(jobs[0].created)} build ${rel(img.started_at)}→${rel(img.finished_at)} deploy ${rel(dep.created)}… updated ${rel(dep.updated)} finished ${rel(jobs[0].finished)}`);
  const { Database } = await import("bun:sqlite");
  const db = new Database(join(s.dataDir, "ancla.db"), { readonly: true });
  const lines = db.query("select line, created_at from deployment_logs where deployment_id = ? order by id").all(run.deployment.id) as { line: string; created_at: string }[];
  const build = db.query("select line, created_at from image_logs where image_id = ? order by id").all(run.image.id) as { line: string; created_at: string }[];
  db.close();
  for (const l of [...build.filter((b) => /^Step|built|---> Running|Successfully/.test(b.line)), ...lines]) console.log(`    ${rel(l.created_at)} ${l.line.slice(0, 90)}`);
}

async function main() {
  await ensureBaseImage();
  const { bin, cleanup } = await binary();
  process.env.ANCLA_TEST_BIN = bin;
  const s = await startLiveServer({ env: { ANCLA_TEST_RUN_ID: RUN_ID } });
  const ancla = appDir();
  const raw = appDir();
  try {
    const api = async (path: string, body: unknown) => {
      const r = await fetch(s.url + path, { method: "POST", headers: { "x-api-key": s.adminKey, "content-type": "application/json" }, body: JSON.stringify(body) });
      if (r.status >= 300) throw new Error(`${path}: ${r.status} ${await r.text()}`);
    };
    await api("/api/v1/organizations", { name: ORG, slug: ORG });
    await api(`/api/v1/orgs/${ORG}/projects`, { name: "Web", slug: "web" });
    await api(`/api/v1/orgs/${ORG}/projects/web/envs/production/services`, { name: "app", process_counts: { web: 1 } });
    mkdirSync(join(ancla, ".ancla"));
    writeFileSync(join(ancla, ".ancla", "config.yaml"), `org: ${ORG}\nproject: web\nenv: production\nservice: app\n`);
    writeFileSync(join(ancla, ".dockerignore"), ".ancla\n");

    run(["docker", "network", "create", "--label", `dev.ancla.test-run=${RUN_ID}`, RAW_NAME]);
    console.log(`ancla: ${bin}; ${ROUNDS} rounds each, alternating; docker ${run(["docker", "version", "--format", "{{.Server.Version}}"]).trim()}`);
    const a: number[] = [];
    const r: number[] = [];
    let url = "";
    for (let i = 0; i < ROUNDS; i++) {
      touch(ancla, i, "ancla");
      const got = await anclaDeploy(s, bin, ancla);
      url = got.url;
      a.push(got.ms);
      touch(raw, i, "raw");
      r.push(await rawDeploy(raw, i));
      console.log(`round ${i + 1}: ancla deploy ${fmt(a[i]! / 1000, 2)} s   raw docker script ${fmt(r[i]! / 1000, 2)} s   ratio ${fmt(a[i]! / r[i]!, 2)}×`);
    }
    // the deployed app really answers through the router
    const u = new URL(url);
    const res = await fetch(`http://127.0.0.1:${u.port}/`, { headers: { host: u.host } });
    const page = await res.text();
    if (res.status !== 200 || !page.includes(`ancla round ${ROUNDS - 1}`)) throw new Error(`the app at ${url} did not serve the last round: ${res.status}`);
    const med = (xs: number[]) => percentile([...xs].sort((x, y) => x - y), 50);
    const ratio = med(a) / med(r);
    console.log(`median: ancla deploy ${fmt(med(a) / 1000, 2)} s, raw docker build + run + health poll ${fmt(med(r) / 1000, 2)} s → ${fmt(ratio, 2)}× (target ≤ 1.25×) ${ratio <= 1.25 ? "OK" : "OVER TARGET"}`);
  } finally {
    await s.stop();
    await removeLabelled(`dev.ancla.test-run=${RUN_ID}`);
    const docker = testDocker();
    for (const ref of [`ancla/${ORG}-*`, `${RAW_NAME}`]) for (const i of await docker.listImages({ filters: { reference: [ref] } })) await docker.getImage(i.Id).remove({ force: true }).catch(() => {});
    for (const label of [`dev.ancla.org=${ORG}`, `dev.ancla.test-run=${RUN_ID}`])
      for (const n of await docker.listNetworks({ filters: { label: [label] } })) await docker.getNetwork(n.Id).remove().catch(() => {});
    rmSync(ancla, { recursive: true, force: true });
    rmSync(raw, { recursive: true, force: true });
    cleanup();
  }
}

await main();
