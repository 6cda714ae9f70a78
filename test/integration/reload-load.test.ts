// Ten SIGHUP reloads of a live `ancla serve` while clients hammer a real deployed app through the
// router (keep-alive and a new connection per request) and probe the API: not one failed request,
// and the API never goes more than a second without an answer. The app's containers keep running.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixtureFiles } from "../fixtures/webapp/support";
import { contextTar, ensureBaseImage, RUN_ID, testDocker, removeOrgResources, RUN_LABELS_ENV } from "../support/docker";
import { startLiveServer, type LiveServer } from "../support/server";
import { liveApi, type LiveApi } from "../support/live-api";
import { reloadAndWait, serverPid } from "../../src/modules/ops/upgrade";

// a build, a deploy and ten server starts from source under load
setDefaultTimeout(1_200_000); // ten reloads, each of which a loaded machine may take minutes over

const ORG = `reload${RUN_ID}`.toLowerCase();
const SVC = `/api/v1/orgs/${ORG}/projects/web/envs/production/services`;
const HOST = `app.web.${ORG}.localhost`;
const dataDir = mkdtempSync(join(tmpdir(), "ancla-reload-load-"));
let s: LiveServer;
let routerUrl: string;

let api: LiveApi;

async function until<T>(what: string, fn: () => Promise<T | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(150);
  }
}

beforeAll(async () => {
  await ensureBaseImage();
  s = await startLiveServer({ dataDir, env: RUN_LABELS_ENV, args: ["--reload-timeout", "300"] }); // a loaded machine starts a new process slowly
  api = liveApi(s);
  routerUrl = /ancla router listening on (http:\/\/\S+)/.exec(s.output())![1]!;
  expect((await api("POST", "/api/v1/organizations", { name: ORG, slug: ORG })).status).toBe(201);
  expect((await api("POST", `/api/v1/orgs/${ORG}/projects`, { name: "Web", slug: "web" })).status).toBe(201);
  const created = await api("POST", SVC, { name: "app", process_counts: { web: 2 } });
  expect(created.status).toBe(201);
  const build = await api("POST", `${SVC}/app/images/build`, undefined, (await contextTar(fixtureFiles())) as unknown as BodyInit);
  expect(build.status).toBe(201);
  await until("the build", async () => {
    const d = await api("GET", `/api/v1/images/${build.body.image_id}/detail`);
    if (d.body.status === "error") throw new Error(`build failed: ${d.body.error_detail}`);
    return d.body.status === "complete" ? true : undefined;
  });
  const release = await api("POST", `/api/v1/releases/${created.body.id}/create`);
  const deploy = await api("POST", `/api/v1/releases/${release.body.release_id}/deploy`);
  const done = await until("the deploy", async () => {
    const d = await api("GET", `/api/v1/deployments/${deploy.body.deployment_id}/detail`);
    return d.body.status === "complete" || d.body.status === "error" ? d.body : undefined;
  });
  expect(done.error_detail).toBeNull();
});

afterAll(async () => {
  const pid = serverPid(dataDir);
  if (pid) process.kill(pid, "SIGTERM");
  for (let i = 0; i < 150 && pid && serverPid(dataDir) === pid; i++) await Bun.sleep(100);
  await s?.stop({ keep: true });
  await removeOrgResources(ORG);
  rmSync(dataDir, { recursive: true, force: true });
});

test("10 reloads under load: 0 failed requests through the router, the API answers within 5 s throughout", async () => {
  const containers = async () => (await testDocker().listContainers({ filters: { label: [`dev.ancla.org=${ORG}`] } })).map((c) => c.Id).sort();
  const before = await containers();
  expect(before).toHaveLength(2);
  let running = true;
  const ok = { keepAlive: 0, perRequest: 0, api: 0 };
  const failures: string[] = [];
  const client = async (kind: "keepAlive" | "perRequest") => {
    const init: RequestInit = kind === "keepAlive" ? { headers: { host: HOST } } : { keepalive: false, headers: { host: HOST, connection: "close" } };
    while (running) {
      try {
        const res = await fetch(`${routerUrl}/`, init);
        const text = await res.text();
        if (res.status === 200 && text.includes("hello from the webapp")) ok[kind]++;
        else failures.push(`${kind}: ${res.status} ${text.slice(0, 80)}`);
      } catch (e) {
        failures.push(`${kind}: ${(e as Error).message}`);
      }
    }
  };
  let apiGap = 0;
  const prober = async () => {
    let last = performance.now();
    while (running) {
      try {
        const res = await fetch(`${s.url}/api/v1/integrations/health`);
        await res.text();
        if (res.status !== 200) failures.push(`api: ${res.status}`);
        else {
          ok.api++;
          const t = performance.now();
          apiGap = Math.max(apiGap, t - last);
          last = t;
        }
      } catch (e) {
        failures.push(`api: ${(e as Error).message}`);
      }
      await Bun.sleep(25);
    }
  };
  const load = [client("keepAlive"), client("keepAlive"), client("perRequest"), client("perRequest"), prober()];
  const pids = [serverPid(dataDir)!];
  for (let i = 0; i < 10; i++) {
    await Bun.sleep(300);
    const status = await reloadAndWait(dataDir, pids.at(-1)!, 320_000);
    expect(status.state).toBe("complete");
    pids.push(status.to!);
  }
  await Bun.sleep(300);
  running = false;
  await Promise.all(load);
  console.log(`reload under load: ${JSON.stringify(ok)} requests, largest API gap ${Math.round(apiGap)} ms, pids ${pids.join(" → ")}`);
  expect(failures).toEqual([]);
  expect(new Set(pids).size).toBe(11);
  expect(ok.keepAlive).toBeGreaterThan(100);
  expect(ok.perRequest).toBeGreaterThan(100);
  expect(apiGap).toBeLessThan(5000); // 2.9 s was seen at load average 25 (parallel test files and other work)
  expect(await containers()).toEqual(before); // the app was never restarted
});
