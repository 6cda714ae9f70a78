// `ancla deploy` end to end against a live `ancla serve` and the real Docker engine: a fixture
// directory (with a .dockerignore) is uploaded, built, released and deployed, and the printed URL
// answers through the router on 127.0.0.1 by Host header. Then status, logs, redeploy, rollback,
// promote (preview, refusal without --yes), failure exit codes and `down`.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { cpSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ancla, startLiveServer, type LiveServer } from "../support/server";
import { ensureBaseImage, RUN_ID, testDocker, removeOrgResources, RUN_LABELS_ENV } from "../support/docker";

setDefaultTimeout(300_000);

let s: LiveServer;
let dir: string;
const ORG = `cli${RUN_ID}`.toLowerCase();
const SECRET = "cli-deploy-secret-" + crypto.randomUUID();
const FIXTURE = resolve(import.meta.dir, "../fixtures/webapp");

const cli = (args: string[], cwd = dir) => ancla(args, { home: s.home, cwd, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey } });
const api = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(s.url + path, { method, headers: { "x-api-key": s.adminKey, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  expect(r.status).toBeLessThan(300);
  return r.json() as Promise<any>;
};
const svcPath = (env = "production", svc = "app") => `/api/v1/orgs/${ORG}/projects/web/envs/${env}/services/${svc}`;
/** GET through the router: the URL's host goes in the Host header, the request to 127.0.0.1. */
async function viaRouter(url: string, path = "/") {
  const u = new URL(url);
  const res = await fetch(`http://127.0.0.1:${u.port}${path}`, { headers: { host: u.host } });
  return { status: res.status, text: await res.text() };
}
const envOf = (text: string, name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1];
const urlIn = (stdout: string) => /http:\/\/\S+/.exec(stdout)?.[0] ?? "";

function fixtureDir(extra: Record<string, string> = {}): string {
  const d = mkdtempSync(join(tmpdir(), "ancla-deploy-fixture-"));
  cpSync(FIXTURE, d, { recursive: true, filter: (src) => !src.endsWith("support.ts") });
  writeFileSync(join(d, "www", "ignored.html"), "must not be deployed\n");
  mkdirSync(join(d, "node_modules"), { recursive: true });
  writeFileSync(join(d, "node_modules", "big.bin"), "x".repeat(4096));
  writeFileSync(join(d, ".dockerignore"), "www/ignored.html\nnode_modules\n");
  for (const [k, v] of Object.entries(extra)) writeFileSync(join(d, k), v);
  return d;
}

beforeAll(async () => {
  await ensureBaseImage();
  // a replica answering 404 to its health path fails the deploy after 3 s instead of the service's
  // 10 s deployment timeout (the failing-health test); the fixture never answers 404 while starting
  s = await startLiveServer({ env: RUN_LABELS_ENV, args: ["--health-not-found-timeout", "3"] });
  await api("POST", "/api/v1/organizations", { name: ORG, slug: ORG });
  await api("POST", `/api/v1/orgs/${ORG}/projects`, { name: "Web", slug: "web" });
  await api("POST", `/api/v1/orgs/${ORG}/projects/web/envs/production/services`, { name: "app", process_counts: { web: 1, worker: 1 }, deployment_timeout: 40 });
  await api("POST", `${svcPath()}/config`, { name: "GREETING", value: "hello-cli" });
  await api("POST", `${svcPath()}/config`, { name: "API_TOKEN", value: SECRET, secret: true });
  // a worker that says something, so `ancla logs` has output from both processes
  // both exit on SIGTERM (as PID 1 an exec'd httpd or a plain shell loop ignores it, and every
  // replaced replica would wait out its 3 s stop grace)
  dir = fixtureDir({ Procfile: `web: trap 'exit 0' TERM; httpd -f -p "$PORT" -h /www & wait $!\nworker: trap 'exit 0' TERM; echo "worker started"; while true; do sleep 1 & wait $!; done\n` });
});
afterAll(async () => {
  await s?.stop();
  await removeOrgResources(ORG);
  rmSync(dir, { recursive: true, force: true });
});

let url = "";

describe("ancla deploy", () => {
  test("without a link or target: usage error (exit 2), nothing uploaded", async () => {
    const r = await cli(["deploy"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing org");
    expect((await cli(["deploy", join(dir, "nope")])).code).toBe(2);
  });

  test("link + deploy: progress on stderr, the URL on stdout; the app answers through the router by Host header", async () => {
    expect((await cli(["link", `${ORG}/web/production/app`])).code).toBe(0);
    const r = await cli(["deploy"]);
    if (r.code !== 0) throw new Error(`deploy failed: ${r.stderr}`);
    expect(r.stderr).toContain("Uploading");
    expect(r.stderr).toMatch(/Build v1: (running|complete)/);
    expect(r.stderr).toContain("Deploy v1: complete");
    url = urlIn(r.stdout);
    expect(url).toMatch(new RegExp(`^http://app\\.web\\.${ORG}\\.localhost:\\d+$`));
    const page = await viaRouter(url);
    expect(page.status).toBe(200);
    expect(page.text).toContain("hello from the webapp");
    const env = await viaRouter(url, "/cgi-bin/env");
    expect(envOf(env.text, "GREETING")).toBe("hello-cli");
    expect(envOf(env.text, "API_TOKEN")).toBe(SECRET);
    // .dockerignore was honoured: the ignored page is not in the image
    expect((await viaRouter(url, "/ignored.html")).status).toBe(404);
    expect(r.stdout + r.stderr).not.toContain(SECRET);
  });

  test("status and logs of the linked service", async () => {
    const st = await cli(["status"]);
    expect(st.code).toBe(0);
    expect(st.stdout).toMatch(/^deploy:\s+complete \(v1\)$/m);
    expect(st.stdout).toContain(url);
    // running/desired per process (never the stored count alone), then one line per replica
    expect(st.stdout).toMatch(/^processes:\s+web 1\/1 running, worker 1\/1 running$/m);
    expect(st.stdout).toMatch(/^replica web\.1:\s+running, port \d+, container [0-9a-f]{12}, 0 restarts$/m);
    expect(st.stdout).toMatch(/^replica worker\.1:\s+running, container [0-9a-f]{12}, 0 restarts$/m);
    const logs = await cli(["logs", "--tail", "20"]);
    expect(logs.code).toBe(0);
    expect(logs.stdout).toMatch(/^worker\.1 \| worker started$/m);
  });

  test("--follow streams the build and deploy logs; a config change is served after redeploy; rollback serves the old value", async () => {
    await api("POST", `${svcPath()}/config`, { name: "GREETING", value: "hello-again" });
    const r = await cli(["deploy", ".", "--follow"]);
    if (r.code !== 0) throw new Error(`deploy failed: ${r.stderr}`);
    expect(r.stderr).toContain("Step 1/"); // docker build output
    expect(r.stderr).toContain("==> health"); // deploy log
    expect(r.stderr).not.toContain(SECRET);
    expect(envOf((await viaRouter(url, "/cgi-bin/env")).text, "GREETING")).toBe("hello-again");

    const rb = await cli(["rollback"]);
    expect(rb.code).toBe(0);
    expect(rb.stdout).toContain("release v1");
    expect(envOf((await viaRouter(url, "/cgi-bin/env")).text, "GREETING")).toBe("hello-cli");
    const to = await cli(["rollback", "--to", "2"]);
    expect(to.code).toBe(0);
    expect(envOf((await viaRouter(url, "/cgi-bin/env")).text, "GREETING")).toBe("hello-again");
    expect((await cli(["rollback", "--to", "zero"])).code).toBe(2);
    expect((await cli(["rollback", "--to", "99"])).code).toBe(4);
  });

  test("releases list|create|deploy, deployments list|get|log, apps status|scale|deploy, services scale", async () => {
    const list = await cli(["releases", "list", "--json"]);
    expect(list.code).toBe(0);
    expect(list.json().map((r: { version: number }) => r.version)).toEqual([2, 1]);
    const created = await cli(["releases", "create", "--json"]);
    expect(created.code).toBe(0);
    expect(created.json().version).toBe(3);
    const dep = await cli(["releases", "deploy", "v3"]);
    if (dep.code !== 0) throw new Error(dep.stderr);
    expect(dep.stdout).toContain("Release v3 is serving");
    expect((await cli(["releases", "deploy", "nine"])).code).toBe(2);

    const deployments = (await cli(["deployments", "list", "--json"])).json();
    expect(deployments[0]).toMatchObject({ status: "complete", release: { version: 3 } });
    const one = await cli(["deployments", "get", deployments[0].id]);
    expect(one.stdout).toMatch(/^status:\s+complete$/m);
    const log = await cli(["deployments", "log", deployments[0].id, "--follow"]);
    expect(log.code).toBe(0);
    expect(log.stdout).toContain("Deployment complete: release v3 is serving");
    expect((await cli(["deployments", "get", "01900000-0000-7000-8000-000000000000"])).code).toBe(4);

    const st = await cli(["apps", "status", "--json"]);
    expect(st.code).toBe(0);
    expect(st.json().status.deploy).toMatchObject({ status: "complete", version: 3 });
    const scaled = await cli(["apps", "scale", "app", "web=2"]);
    if (scaled.code !== 0) throw new Error(scaled.stderr);
    expect(scaled.stdout).toContain("web=2");
    const hosts = new Set<string>();
    for (let i = 0; i < 6; i++) hosts.add(envOf((await viaRouter(url, "/cgi-bin/env")).text, "HOSTNAME")!);
    expect(hosts.size).toBe(2);
    expect((await cli(["services", "scale", "app", "web=1"])).code).toBe(0);
    expect((await api("GET", svcPath())).process_counts).toMatchObject({ web: 1, worker: 1 });
    expect((await cli(["apps", "scale", "app", "web=lots"])).code).toBe(2);
    expect((await cli(["services", "scale", "app"])).code).toBe(2);

    // a pipeline from the last uploaded context, without uploading again
    const again = await cli(["apps", "deploy"]);
    if (again.code !== 0) throw new Error(again.stderr);
    expect(again.stdout).toContain("(release v4)");
    expect(envOf((await viaRouter(url, "/cgi-bin/env")).text, "GREETING")).toBe("hello-again");
  });

  test("a failing build: exit 1 naming the build stage; the previous release keeps serving", async () => {
    const bad = fixtureDir({ Dockerfile: "FROM ancla-test/busybox\nRUN exit 3\n" });
    try {
      const r = await cli(["deploy", bad]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("deploy failed at the build stage");
      expect(r.stdout).toBe("");
    } finally {
      rmSync(bad, { recursive: true, force: true });
    }
    expect((await viaRouter(url)).status).toBe(200);
  });

  test("a failing health check: exit 1 naming the deploy stage", async () => {
    await api("PATCH", svcPath(), { health_check_path: "/missing/", deployment_timeout: 10 });
    try {
      const r = await cli(["deploy"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("deploy failed at the deploy stage");
    } finally {
      await api("PATCH", svcPath(), { health_check_path: "/_health/", deployment_timeout: 40 });
    }
    expect(envOf((await viaRouter(url, "/cgi-bin/env")).text, "GREETING")).toBe("hello-again");
  });

  test("promote: shows the preview and refuses without --yes (no terminal); with --yes staging gets the same image", async () => {
    await api("POST", `/api/v1/orgs/${ORG}/projects/web/envs`, { name: "Staging", slug: "staging", env_type: "staging" });
    await api("POST", `/api/v1/orgs/${ORG}/projects/web/envs/staging/config`, { name: "GREETING", value: "hello-staging" });
    const refused = await cli(["promote", "app", "--from", "production", "--to", "staging"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("production release v");
    expect(refused.stderr).toContain("config that differs: GREETING");
    expect(refused.stderr).toContain("--yes");
    expect((await fetch(`${s.url}${svcPath("staging")}`, { headers: { "x-api-key": s.adminKey } })).status).toBe(404);

    const r = await cli(["promote", "app", "--from", "production", "--to", "staging", "--yes"]);
    if (r.code !== 0) throw new Error(`promote failed: ${r.stderr}`);
    const stagingUrl = urlIn(r.stdout);
    expect(stagingUrl).toContain(`app.staging.web.${ORG}.localhost:`);
    expect(envOf((await viaRouter(stagingUrl, "/cgi-bin/env")).text, "GREETING")).toBe("hello-staging");
  });

  test("down: refuses without --yes; with --yes every process is scaled to 0 and the router has no backend", async () => {
    const refused = await cli(["down"]);
    expect(refused.code).toBe(2);
    expect((await viaRouter(url)).status).toBe(200);
    const r = await cli(["down", "--yes"]);
    expect(r.code).toBe(0);
    const svc = await api("GET", svcPath());
    expect(svc.process_counts).toEqual({ web: 0, worker: 0 });
    // traffic is off at once; the old replicas are removed right after the switch
    expect([502, 503]).toContain((await viaRouter(url)).status);
    let running = await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${svc.id}`] } });
    for (let i = 0; i < 60 && running.length; i++) {
      await Bun.sleep(250);
      running = await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${svc.id}`] } });
    }
    expect(running.map((c) => c.Labels["dev.ancla.process"])).toEqual([]);
  });

  test("no secret in the server's output", () => {
    expect(s.output()).not.toContain(SECRET);
  });
});
