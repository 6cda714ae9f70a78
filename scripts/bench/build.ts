// Build benchmark: the same small context through `ancla images build` (CLI → tar.gz upload →
// queue → legacy Docker build → status polling) and through a direct `docker build` (legacy
// builder), alternating, side by side in one run. Each build gets a fresh stamp file so both
// sides do real work (no cache hit on the RUN step). Target: ancla ≤ 1.2 × docker + 0.5 s.
//   bun scripts/bench/build.ts [rounds=5]
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ensureBaseImage, removeLabelled, RUN_ID, TEST_RUN_LABEL } from "../../test/support/docker";
import { anclaArgv, fmt, removeDir, seed, startAncla, tempDir } from "./lib";

const rounds = Number(process.argv[2] ?? 5);
await ensureBaseImage();
const { argv, label } = anclaArgv();
const seeded = await seed({ services: 1 });
const server = await startAncla(seeded.dataDir);
const work = tempDir("ancla-bench-build-");
const ctx = join(work, "ctx");
mkdirSync(ctx);
writeFileSync(join(ctx, "Dockerfile"), "FROM ancla-test/busybox\nCOPY . /app\nRUN cat /app/stamp.txt && ls /app | wc -l\nCMD [\"httpd\", \"-f\", \"-p\", \"8000\"]\n");
writeFileSync(join(ctx, "index.html"), "<h1>bench</h1>\n".repeat(200));
writeFileSync(join(ctx, ".dockerignore"), "*.log\n");
const env = { ...process.env, ANCLA_SERVER: server.url, ANCLA_API_KEY: seeded.key, DOCKER_BUILDKIT: "0" };
const target = "acme/web/production/svc-0";

async function timed(cmd: string[]): Promise<number> {
  const start = performance.now();
  const p = Bun.spawn(cmd, { env, stdout: "pipe", stderr: "pipe" });
  const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  if (code !== 0) throw new Error(`${cmd.join(" ")} failed (${code}):\n${out}\n${err}`);
  return (performance.now() - start) / 1000;
}

const labels = ["managed=true", "org=acme", "project=web", "env=production", "service=svc-0", "version=0"].flatMap((l) => ["--label", `dev.ancla.${l}`]);
const rows: { ancla: number; docker: number; dockerLabels: number }[] = [];
try {
  for (let i = 0; i <= rounds; i++) {
    const stamp = () => writeFileSync(join(ctx, "stamp.txt"), `${RUN_ID}-${i}-${Math.random()}\n`);
    stamp();
    const ancla = await timed([...argv, "images", "build", target, "--path", ctx, "-q"]);
    stamp();
    const docker = await timed(["docker", "build", "-q", "-t", `ancla-bench/direct:${RUN_ID}`, "--label", `${TEST_RUN_LABEL}=${RUN_ID}`, ctx]);
    stamp();
    const dockerLabels = await timed(["docker", "build", "-q", "-t", `ancla-bench/direct:${RUN_ID}`, "--label", `${TEST_RUN_LABEL}=${RUN_ID}`, ...labels, ctx]);
    if (i > 0) rows.push({ ancla, docker, dockerLabels }); // round 0 warms caches (base image layers, binaries)
  }
} finally {
  await server.stop();
  await removeLabelled("dev.ancla.org=acme");
  await removeLabelled(`${TEST_RUN_LABEL}=${RUN_ID}`);
  removeDir(work);
  removeDir(seeded.dataDir);
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const a = median(rows.map((r) => r.ancla));
const d = median(rows.map((r) => r.docker));
const dl = median(rows.map((r) => r.dockerLabels));
console.log(`ancla: ${label}; ${rows.length} rounds, medians`);
console.log(`  ancla images build (CLI, upload, queue, build, poll): ${fmt(a, 2)} s`);
console.log(`  docker build (legacy builder, same context):          ${fmt(d, 2)} s`);
console.log(`  docker build with the same six --label flags:          ${fmt(dl, 2)} s`);
console.log(`  ratio ancla/docker ${fmt(a / d, 2)}×; target ≤ 1.2 × ${fmt(d, 2)} + 0.5 = ${fmt(1.2 * d + 0.5, 2)} s → ${a <= 1.2 * d + 0.5 ? "MET" : "NOT MET"}`);
