// End to end on the Kubernetes target: a live `ancla serve`, the test Kubernetes API server
// (test/support/kube: real HTTPS + client certificate, pods as real Docker containers) and a real
// registry (docker-registry with htpasswd). A kubernetes environment is created from a kubeconfig
// file with the CLI; the fixture app is built, pushed, applied and reached through its pods' host
// ports; a config change rolls out with zero failed requests through the ready pod set; a crash
// loop fails the deploy with the pod's output and keeps the previous release; rollback, scale
// 1→3→1, promotion from a Docker staging environment with the same image, kill -9 of ancla
// mid-rollout then restart, and deleting the environment removes the objects.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixtureFiles } from "../fixtures/webapp/support";
import { contextTar, ensureBaseImage, removeOrgResources, RUN_ID, RUN_LABELS, RUN_LABELS_ENV, testDocker } from "../support/docker";
import { startKubeApi, type KubeApi } from "../support/kube";
import { startRegistry, type TestRegistry } from "../support/registry";
import { ancla, startLiveServer, type LiveServer } from "../support/server";
import { poller } from "../support/poll";
import { liveApi, type LiveApi } from "../support/live-api";

setDefaultTimeout(300_000);

const ORG = `kube${RUN_ID}`.toLowerCase();
const PROJ = `/api/v1/orgs/${ORG}/projects/web`;
const SVC = `${PROJ}/envs/cluster/services`;
const dataDir = mkdtempSync(join(tmpdir(), "ancla-kube-e2e-"));
const work = mkdtempSync(join(tmpdir(), "ancla-kube-files-"));
let server: LiveServer | undefined;
let kube: KubeApi;
let reg: TestRegistry;
let NS = "";
let appId = "";
const releases: Record<string, { id: string; version: number }> = {};

let api: LiveApi;

async function boot(): Promise<void> {
  // a restart recovers an interrupted cluster rollout (loading the Kubernetes client, re-applying
  // the recorded objects) before its router listens: on a loaded machine that takes a while
  const s = await startLiveServer({ dataDir, env: RUN_LABELS_ENV, startTimeoutMs: 120_000 });
  server = s;
  api = liveApi(s);
}

const until = poller(150_000);

const cli = (args: string[]) => ancla(args, { home: server!.home, env: { ANCLA_SERVER: server!.url, ANCLA_API_KEY: server!.adminKey } });
const envOf = (text: string, name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1];

async function build(svcPath: string, files = fixtureFiles()): Promise<void> {
  const r = await api("POST", `${svcPath}/images/build`, undefined, (await contextTar(files)) as unknown as BodyInit);
  expect(r.status).toBe(201);
  await until("the build", async () => {
    const d = await api("GET", `/api/v1/images/${r.body.image_id}/detail`);
    if (d.body.status === "error") throw new Error(`build failed: ${d.body.error_detail}`);
    return d.body.status === "complete";
  });
}

async function waitDeployment(id: string): Promise<any> {
  return until(`deployment ${id}`, async () => {
    const d = await api("GET", `/api/v1/deployments/${id}/detail`);
    return d.body.status === "complete" || d.body.status === "error" ? d.body : undefined;
  });
}

async function releaseAndDeploy(name: string): Promise<any> {
  const r = await api("POST", `/api/v1/releases/${appId}/create`);
  expect(r.status).toBe(201);
  releases[name] = { id: r.body.release_id, version: r.body.version };
  const d = await api("POST", `/api/v1/releases/${r.body.release_id}/deploy`);
  expect(d.status).toBe(201);
  return waitDeployment(d.body.deployment_id);
}

/** The web pods a Service would send traffic to (ready, not terminating), with their host ports. */
const readyPods = () => kube.endpoints(NS, "app");
async function greetings(): Promise<string[]> {
  const out: string[] = [];
  for (const p of readyPods()) out.push(envOf(await fetch(`http://127.0.0.1:${p.hostPort}/cgi-bin/env`).then((r) => r.text()), "GREETING") ?? "");
  return out.sort();
}
const setGreeting = async (value: string) => expect([200, 201]).toContain((await api("POST", `${SVC}/app/config`, { name: "GREETING", value })).status);

beforeAll(async () => {
  await ensureBaseImage();
  reg = await startRegistry();
  kube = await startKubeApi({ docker: testDocker(), containerLabels: RUN_LABELS, ingressClasses: ["nginx"] });
  await boot();
  expect((await api("POST", "/api/v1/organizations", { name: ORG, slug: ORG })).status).toBe(201);
  expect((await api("POST", `${PROJ.replace(/\/web$/, "")}`, { name: "Web", slug: "web" })).status).toBe(201);
});

afterAll(async () => {
  await server?.stop();
  await kube?.stop();
  await reg?.stop();
  await removeOrgResources(ORG);
  const docker = testDocker();
  for (const i of await docker.listImages({ filters: { reference: [`127.0.0.1:*/ancla/${ORG}-*`, `127.0.0.1:*/ancla/${ORG}/*/*/*`] } })) await docker.getImage(i.Id).remove({ force: true }).catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
  rmSync(work, { recursive: true, force: true });
});

describe("a kubernetes environment", () => {
  test("created from a kubeconfig file with the CLI: the check passes, credentials are never shown, a denied right is named", async () => {
    writeFileSync(join(work, "kubeconfig"), kube.kubeconfig());
    writeFileSync(join(work, "registry-password"), `${reg.password}\n`);
    const created = await cli(["envs", "create", `${ORG}/web/cluster`, "--type", "production", "--target", "kubernetes", "--kubeconfig", join(work, "kubeconfig"), "--registry", reg.host, "--registry-username", reg.username, "--registry-password-file", join(work, "registry-password"), "--json"]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const env = (await api("GET", `${PROJ}/envs/cluster`)).body;
    expect(env).toMatchObject({ target: "kubernetes", kubeconfig_set: true, kubeconfig_server: kube.url, registry_url: reg.host, registry_password_set: true });
    NS = env.namespace;
    expect(NS).toBe(`ancla-${ORG}-web-cluster`);
    const shown = JSON.stringify(env) + created.stdout;
    for (const secret of [reg.password, Buffer.from(kube.pki.clientKey).toString("base64").slice(0, 40), "PRIVATE KEY"]) expect(shown).not.toContain(secret);

    const check = await cli(["envs", "check", `${ORG}/web/cluster`]);
    expect(check.code).toBe(0);
    kube.deny({ verb: "patch", resource: "deployments" });
    try {
      const denied = await cli(["envs", "check", `${ORG}/web/cluster`]);
      expect(denied.code).not.toBe(0);
      expect(denied.stderr).toContain("patch deployments");
    } finally {
      kube.allowAll();
    }
  });

  test("deploy: the image is pushed to the registry, objects are server-side applied, the pod answers on its host port", async () => {
    const svc = await api("POST", SVC, { name: "app", process_counts: { web: 1 }, health_check_path: "/_health/", deployment_timeout: 120 });
    expect(svc.status).toBe(201);
    appId = svc.body.id;
    await setGreeting("one");
    await build(`${SVC}/app`);
    const d = await releaseAndDeploy("one");
    expect(d.error_detail).toBeNull();
    expect(d.status).toBe("complete");
    expect(await greetings()).toEqual(["one"]);
    const pod = readyPods()[0]!;
    expect(pod.image).toMatch(new RegExp(`^${reg.host.replace(/\./g, "\\.")}/.+@sha256:[0-9a-f]{64}$`));
    expect((await reg.tags(pod.image.slice(reg.host.length + 1).split("@")[0]!)).length).toBeGreaterThan(0);
    expect(kube.get("Secret", NS, "ancla-registry")?.type).toBe("kubernetes.io/dockerconfigjson");
    expect(kube.get("Service", NS, "app")).toBeDefined();
    const hosts = (kube.get("Ingress", NS, "app")?.spec.rules ?? []).map((r: any) => r.host);
    expect(hosts).toEqual(expect.arrayContaining([expect.stringMatching(new RegExp(`^app\\.cluster\\.web\\.${ORG}\\.`))]));
    expect(kube.requests.some((r) => r.method === "PATCH" && r.contentType === "application/apply-patch+yaml" && /fieldManager=ancla/.test(r.query) && /force=true/.test(r.query))).toBe(true);
  });

  test("a config change rolls out with zero failed requests through the ready pods", async () => {
    await setGreeting("two");
    let stop = false;
    const stats = { ok: 0, failed: [] as string[], seen: new Set<string>() };
    const load = (async () => {
      while (!stop) {
        const pods = readyPods();
        const p = pods[Math.floor(Math.random() * pods.length)];
        if (p?.hostPort) {
          try {
            const res = await fetch(`http://127.0.0.1:${p.hostPort}/cgi-bin/env`);
            const text = await res.text();
            if (res.status === 200) (stats.ok++, stats.seen.add(envOf(text, "GREETING") ?? ""));
            else stats.failed.push(`${p.name}: ${res.status}`);
          } catch (e) {
            stats.failed.push(`${p.name}: ${(e as Error).message}`);
          }
        }
        await Bun.sleep(20);
      }
    })();
    const d = await releaseAndDeploy("two");
    stop = true;
    await load;
    expect(d.error_detail).toBeNull();
    expect(stats.failed).toEqual([]);
    expect(stats.ok).toBeGreaterThan(10);
    expect(stats.seen.has("one")).toBe(true);
    expect(await until("only new pods", async () => (kube.podsOf(NS, "app-web").length === 1 ? greetings() : undefined))).toEqual(["two"]);
  });

  test("a crash loop fails the deploy with the pod's output and the previous release keeps serving", async () => {
    const crashing = fixtureFiles({ Procfile: 'web: echo "fatal: the database at $DATABASE_HOST is unreachable"; exit 3\n' });
    await build(`${SVC}/app`, crashing);
    const d = await releaseAndDeploy("crash");
    expect(d.status).toBe("error");
    expect(d.error_detail).toContain("CrashLoopBackOff");
    expect(`${d.error_detail}\n${d.deploy_log}`).toContain("fatal: the database at");
    expect(await until("the previous pod set only", async () => (kube.podsOf(NS, "app-web").every((p) => !p.waiting) ? greetings() : undefined))).toEqual(["two"]);
    const dep = kube.get("Deployment", NS, "app-web")!;
    expect(dep.spec.template.metadata.labels["dev.ancla.release"]).toBe(releases.two!.id);
  });

  test("rollback to release one, then scale 1→3→1", async () => {
    const rb = await api("POST", `${SVC}/app/deploy`, { version: releases.one!.version });
    expect(rb.status).toBe(201);
    const done = await waitDeployment(rb.body.deployment_id);
    expect(done.error_detail).toBeNull();
    expect(await until("release one only", async () => (kube.podsOf(NS, "app-web").length === 1 ? greetings() : undefined))).toEqual(["one"]);

    const up = await api("POST", `/api/v1/applications/${appId}/scale`, { process_counts: { web: 3 } });
    expect(up.status).toBe(201);
    const scaleUp = (await api("GET", `/api/v1/applications/${appId}/deployments`)).body.items[0];
    expect(scaleUp.kind).toBe("scale");
    expect((await waitDeployment(scaleUp.id)).error_detail).toBeNull();
    expect(kube.get("Deployment", NS, "app-web")!.spec.replicas).toBe(3);
    expect(await greetings()).toEqual(["one", "one", "one"]);
    const down = await api("POST", `/api/v1/applications/${appId}/scale`, { process_counts: { web: 1 } });
    expect(down.status).toBe(201);
    const scaleDown = (await api("GET", `/api/v1/applications/${appId}/deployments`)).body.items[0];
    expect((await waitDeployment(scaleDown.id)).error_detail).toBeNull();
    expect(await until("one pod", () => (kube.podsOf(NS, "app-web").length === 1 ? true : undefined))).toBe(true);
    expect(await greetings()).toEqual(["one"]);
  });

  test("promote Docker staging → the kubernetes environment: the cluster runs the very same image", async () => {
    expect((await api("POST", `${PROJ}/envs`, { name: "Staging", slug: "staging", env_type: "staging" })).status).toBe(201);
    const staging = `${PROJ}/envs/staging/services`;
    expect((await api("POST", staging, { name: "shop", process_counts: { web: 1 }, health_check_path: "/_health/", deployment_timeout: 120 })).status).toBe(201);
    expect([200, 201]).toContain((await api("POST", `${staging}/shop/config`, { name: "GREETING", value: "staged" })).status);
    const p = await api("POST", `${PROJ}/pipeline/deploy?service=shop&env=staging`, undefined, (await contextTar(fixtureFiles())) as unknown as BodyInit);
    expect(p.status).toBe(201);
    const shopId = (await api("GET", `${staging}/shop`)).body.id;
    await until("the staging deploy", async () => {
      const latest = ((await api("GET", `/api/v1/applications/${shopId}/deployments`)).body.items ?? [])[0];
      if (latest?.status === "error") throw new Error(`staging deploy failed: ${latest.error_detail}`);
      return latest?.status === "complete";
    });
    const [stagingContainer] = await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${shopId}`] } });
    const promoted = await api("POST", `${PROJ}/promote`, { service: "shop", source_env: "staging", target_env: "cluster" });
    expect(promoted.status).toBe(201);
    const clusterShop = await until("the promoted deployment", async () => {
      const svc = await api("GET", `${SVC}/shop`);
      if (svc.status !== 200) return undefined;
      const list = (await api("GET", `/api/v1/applications/${svc.body.id}/deployments`)).body.items ?? [];
      return list[0] && (list[0].status === "complete" || list[0].status === "error") ? list[0] : undefined;
    });
    expect(clusterShop.status).toBe("complete");
    const pod = await until("the promoted pod", () => kube.podsOf(NS, "shop-web").find((x) => x.ready));
    const [podContainer] = await testDocker().listContainers({ filters: { label: [`io.kubernetes.pod.name=${pod.name}`] } });
    expect(podContainer!.ImageID).toBe(stagingContainer!.ImageID);
    expect(pod.image).toContain("@sha256:");
  });

  test("kill -9 of ancla mid-rollout, then a restart converges the cluster to the last complete release", async () => {
    expect((await api("PATCH", `${SVC}/app`, { health_check_path: "/never/" })).status).toBe(200);
    await setGreeting("three");
    const r = await api("POST", `/api/v1/releases/${appId}/create`);
    const d = await api("POST", `/api/v1/releases/${r.body.release_id}/deploy`);
    const id = d.body.deployment_id;
    await until("the new pod to run", () => kube.podsOf(NS, "app-web").some((p) => p.labels["dev.ancla.release"] === r.body.release_id && p.phase === "Running") || undefined);
    await server!.stop({ signal: "SIGKILL", keep: true });
    await boot();
    const after = await waitDeployment(id);
    expect(after.status).toBe("error");
    expect(after.error_detail).toContain("interrupted");
    await until("the cluster back on the last complete release", () => {
      const pods = kube.podsOf(NS, "app-web");
      return pods.length === 1 && pods[0]!.ready && pods[0]!.labels["dev.ancla.release"] === releases.one!.id || undefined;
    });
    expect(await greetings()).toEqual(["one"]);
    expect((await api("PATCH", `${SVC}/app`, { health_check_path: "/_health/" })).status).toBe(200);
  });

  test("deleting the environment removes what Ancla created on the cluster", async () => {
    expect(kube.list("Deployment", NS).length).toBeGreaterThan(0);
    const del = await api("DELETE", `${PROJ}/envs/cluster`);
    expect([200, 204]).toContain(del.status);
    await until("objects gone", () => (["Deployment", "Service", "Ingress", "Pod"].every((k) => kube.list(k, NS, "dev.ancla.managed=true").length === 0) && kube.list("Secret", NS).filter((s) => s.metadata.labels?.["dev.ancla.service-id"]).length === 0) || undefined);
    await until("pod containers gone", async () => (await testDocker().listContainers({ all: true, filters: { label: [`io.kubernetes.pod.namespace=${NS}`] } })).length === 0 || undefined);
  });
});
