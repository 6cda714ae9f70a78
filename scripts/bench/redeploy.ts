// Failed requests through the router during 10 consecutive redeploys under continuous load.
//   bun scripts/bench/redeploy.ts [--redeploys 10] [--clients 4] [--replicas 2]
// An in-process server (API, job worker, router on 127.0.0.1) deploys the busybox fixture app;
// clients hammer it through the router by Host header while each redeploy changes a config var.
import { testApp } from "../../test/support/app";
import { contextTar, ensureBaseImage, removeLabelled, RUN_ID, testDocker } from "../../test/support/docker";
import { fixtureFiles } from "../../test/fixtures/webapp/support";
import { startWorker } from "../../src/jobs/worker";
import { waitForJob } from "../../src/jobs/queue";
import { startAppRouter } from "../../src/modules/deployments/serve";

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : def;
};

async function main() {
  const redeploys = arg("--redeploys", 10);
  const clients = arg("--clients", 4);
  const replicas = arg("--replicas", 2);
  await ensureBaseImage();
  process.env.ANCLA_TEST_RUN_ID = RUN_ID;
  const t = await testApp({ router: "127.0.0.1:0" });
  const org = `bench${RUN_ID}`.toLowerCase();
  const worker = await startWorker(t.deps);
  const router = await startAppRouter(t.deps);
  const check = <R extends { status: number; text: string }>(r: R, what: string): R => {
    if (r.status >= 300) throw new Error(`${what}: ${r.status} ${r.text}`);
    return r;
  };
  try {
    const { key } = await t.user("bench");
    check(await t.req("POST", "/api/v1/organizations", { name: org, slug: org }, { key }), "org");
    check(await t.req("POST", `/api/v1/orgs/${org}/projects`, { name: "Web", slug: "web" }, { key }), "project");
    const base = `/api/v1/orgs/${org}/projects/web/envs/production/services`;
    const svc = check(await t.req("POST", base, { name: "app", process_counts: { web: replicas } }, { key }), "service").body.id as string;
    const build = check(await t.req("POST", `${base}/app/images/build`, undefined, { key, raw: (await contextTar(fixtureFiles())) as never, headers: { "content-type": "application/x-tar" } }), "build");
    if ((await waitForJob(t.deps, build.body.job_id, 180_000)).status !== "complete") throw new Error("build failed");

    const deploy = async (value: string) => {
      check(await t.req("POST", `${base}/app/config`, { name: "GREETING", value }, { key }), "config");
      const rel = check(await t.req("POST", `/api/v1/releases/${svc}/create`, undefined, { key }), "release").body;
      const dep = check(await t.req("POST", `/api/v1/releases/${rel.release_id}/deploy`, undefined, { key }), "deploy").body;
      const detail = await t.req("GET", `/api/v1/deployments/${dep.deployment_id}/detail`, undefined, { key });
      await waitForJob(t.deps, detail.body.job_id, 180_000);
      const done = (await t.req("GET", `/api/v1/deployments/${dep.deployment_id}/detail`, undefined, { key })).body;
      if (done.status !== "complete") throw new Error(`deploy failed: ${done.error_detail}`);
    };
    await deploy("v0");

    let stop = false;
    let ok = 0;
    const failures: string[] = [];
    const host = `app.production.web.${org}.localhost`;
    const client = async () => {
      while (!stop) {
        try {
          const res = await fetch(`${router.url}/cgi-bin/env`, { headers: { host } });
          const text = await res.text();
          if (res.status === 200) ok++;
          else failures.push(`${res.status} ${text.slice(0, 60)}`);
        } catch (e) {
          failures.push((e as Error).message);
        }
      }
    };
    const running = Array.from({ length: clients }, client);
    const times: number[] = [];
    for (let i = 1; i <= redeploys; i++) {
      const t0 = performance.now();
      await deploy(`v${i}`);
      times.push((performance.now() - t0) / 1000);
    }
    stop = true;
    await Promise.all(running);
    times.sort((a, b) => a - b);
    console.log(`\nredeploy benchmark: ${redeploys} consecutive redeploys of ${replicas} web replica(s), ${clients} clients through the router`);
    console.log(`requests ok: ${ok}   failed: ${failures.length}   (target 0)`);
    console.log(`redeploy time (release → old replicas removed): median ${times[Math.floor(times.length / 2)]!.toFixed(1)} s, max ${times[times.length - 1]!.toFixed(1)} s`);
    if (failures.length) console.log("failures:", failures.slice(0, 10));
  } finally {
    await worker.stop();
    await router.stop();
    await removeLabelled(`dev.ancla.org=${org}`);
    const docker = testDocker();
    for (const i of await docker.listImages({ filters: { reference: [`ancla/${org}-*`] } })) await docker.getImage(i.Id).remove({ force: true }).catch(() => {});
    for (const n of await docker.listNetworks({ filters: { label: [`dev.ancla.org=${org}`] } })) await docker.getNetwork(n.Id).remove().catch(() => {});
    t.close();
  }
}

await main();
