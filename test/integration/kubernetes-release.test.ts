// The release phase, one-off runs and volumes on a Kubernetes environment, end to end: a live
// `ancla serve`, the test Kubernetes API server (test/support/kube: real HTTPS, batch/v1 Jobs
// whose pods run once as real containers, PersistentVolumeClaims backed by Docker named volumes)
// and a real registry. The release phase is a Job that writes a marker into the service's volume,
// which the web pod then serves (reached on its 127.0.0.1 host port); a failing release phase
// fails the deploy and the previous release keeps serving; a run's output (redacted) and exit
// code; the volume's data survives a redeploy; the claim is deleted only with delete_volumes=true.
import { setDefaultTimeout } from "bun:test";
setDefaultTimeout(300_000);
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fixtureFiles } from "../fixtures/webapp/support";
import { contextTar, ensureBaseImage, removeOrgResources, RUN_ID, RUN_LABELS, RUN_LABELS_ENV, testDocker } from "../support/docker";
import { startKubeApi, type KubeApi } from "../support/kube";
import { startRegistry, type TestRegistry } from "../support/registry";
import { startLiveServer, type LiveServer } from "../support/server";
import { poller } from "../support/poll";
import { liveApi, type LiveApi } from "../support/live-api";

const ORG = `kjob${RUN_ID}`.toLowerCase();
const PROJ = `/api/v1/orgs/${ORG}/projects/web`;
const SVC = `${PROJ}/envs/cluster/services`;
const SECRET = "kjob-secret-" + crypto.randomUUID();
const dataDir = mkdtempSync(join(tmpdir(), "ancla-kjob-e2e-"));
let server: LiveServer | undefined;
let kube: KubeApi;
let reg: TestRegistry;
let NS = "";
let appId = "";

const procfile = (release: string) => [`release: ${release}`, `web: ln -sfn /data /www/data && exec httpd -f -p "$PORT" -h /www`].join("\n");
const GOOD = `sh -c 'echo "migrating with $API_TOKEN"; echo "$MARK" > /data/marker'`;

let api: LiveApi;

const until = poller(180_000);

async function build(files: Record<string, unknown>): Promise<void> {
  const r = await api("POST", `${SVC}/app/images/build`, undefined, (await contextTar(files as never)) as unknown as BodyInit);
  expect(r.status).toBe(201);
  await until("the build", async () => {
    const d = await api("GET", `/api/v1/images/${r.body.image_id}/detail`);
    if (d.body.status === "error") throw new Error(`build failed: ${d.body.error_detail}`);
    return d.body.status === "complete";
  });
}

async function releaseAndDeploy(): Promise<any> {
  const r = await api("POST", `/api/v1/releases/${appId}/create`);
  expect(r.status).toBe(201);
  const d = await api("POST", `/api/v1/releases/${r.body.release_id}/deploy`);
  expect(d.status).toBe(201);
  return until(`deployment ${d.body.deployment_id}`, async () => {
    const x = await api("GET", `/api/v1/deployments/${d.body.deployment_id}/detail`);
    return x.body.status === "complete" || x.body.status === "error" ? x.body : undefined;
  });
}

async function run(command: string): Promise<any> {
  const r = await api("POST", `${SVC}/app/runs`, { command });
  expect(r.status).toBe(201);
  return until("the run", async () => {
    const g = await api("GET", `${SVC}/app/runs/${r.body.id}`);
    return g.body.status !== "running" ? g.body : undefined;
  });
}

/** A file the web pod serves from the volume (/www/data → /data), on the ready pod's host port. */
async function served(path: string): Promise<string> {
  const pod = await until("a ready web pod", () => kube.endpoints(NS, "app")[0]);
  const res = await fetch(`http://127.0.0.1:${pod.hostPort}/data/${path}`);
  return res.status === 200 ? res.text() : `HTTP ${res.status}`;
}
const setVar = async (name: string, value: string, secret = false) => expect([200, 201]).toContain((await api("POST", `${SVC}/app/config`, { name, value, secret })).status);

beforeAll(async () => {
  await ensureBaseImage();
  reg = await startRegistry();
  kube = await startKubeApi({ docker: testDocker(), containerLabels: RUN_LABELS });
  const s = await startLiveServer({ dataDir, env: RUN_LABELS_ENV, startTimeoutMs: 120_000 });
  server = s;
  api = liveApi(s);
  expect((await api("POST", "/api/v1/organizations", { name: ORG, slug: ORG })).status).toBe(201);
  expect((await api("POST", `/api/v1/orgs/${ORG}/projects`, { name: "Web", slug: "web" })).status).toBe(201);
  const env = await api("POST", `${PROJ}/envs`, { name: "cluster", target: "kubernetes", kubeconfig: kube.kubeconfig(), registry_url: reg.host, registry_username: reg.username, registry_password: reg.password });
  expect(env.status).toBe(201);
  NS = env.body.namespace;
  const svc = await api("POST", SVC, { name: "app", process_counts: { web: 1 }, health_check_path: "/_health/", deployment_timeout: 120 });
  expect(svc.status).toBe(201);
  appId = svc.body.id;
  expect((await api("POST", `${SVC}/app/volumes`, { name: "data", mount_path: "/data", size_hint: "2Gi" })).status).toBe(201);
  await setVar("API_TOKEN", SECRET, true);
  await setVar("MARK", "first");
});

afterAll(async () => {
  await server?.stop();
  await kube?.stop();
  await reg?.stop();
  await removeOrgResources(ORG);
  const docker = testDocker();
  for (const i of await docker.listImages({ filters: { reference: [`127.0.0.1:*/ancla/${ORG}-*`, `127.0.0.1:*/ancla/${ORG}/*/*/*`] } })) await docker.getImage(i.Id).remove({ force: true }).catch(() => {});
  rmSync(dataDir, { recursive: true, force: true });
});

describe("kubernetes: release phase, runs and volumes", () => {
  test("the release phase runs as a Job with the release's config and writes into the claim the web pod serves; output redacted; the Job is deleted", async () => {
    await build(fixtureFiles({ Procfile: procfile(GOOD) }));
    const d = await releaseAndDeploy();
    expect(d.error_detail).toBeNull();
    expect(d.status).toBe("complete");
    expect(d.deploy_log).toContain("release | migrating with [redacted]");
    expect(d.deploy_log).not.toContain(SECRET);
    expect(d.deploy_log.indexOf("Release phase finished")).toBeLessThan(d.deploy_log.indexOf("Applied "));
    expect(await served("marker")).toBe("first\n");

    const claim = kube.get("PersistentVolumeClaim", NS, "app-data");
    expect(claim?.spec).toMatchObject({ accessModes: ["ReadWriteOnce"], resources: { requests: { storage: "2Gi" } } });
    expect(claim?.status?.phase).toBe("Bound");
    expect(claim?.metadata.labels["dev.ancla.service-id"]).toBe(appId);
    // no Deployment for the release process, and no Job left behind
    expect(kube.list("Deployment", NS).map((x) => x.metadata.name)).toEqual(["app-web"]);
    const pod = kube.get("Deployment", NS, "app-web")!.spec.template.spec;
    expect(pod.volumes).toEqual([{ name: "vol-data", persistentVolumeClaim: { claimName: "app-data" } }]);
    expect(pod.containers[0].volumeMounts).toEqual([{ name: "vol-data", mountPath: "/data" }]);
    await until("the release Job deleted", () => kube.list("Job", NS).length === 0 && kube.list("Pod", NS).every((p) => !p.metadata.labels["dev.ancla.run-id"]));
    // the Job was created as specified (its requests were server-side applies of batch/v1 jobs)
    expect(kube.requests.some((r) => r.method === "PATCH" && r.path.startsWith(`/apis/batch/v1/namespaces/${NS}/jobs/app-release-`))).toBe(true);
    expect(kube.requests.some((r) => r.method === "DELETE" && r.path.startsWith(`/apis/batch/v1/namespaces/${NS}/jobs/app-release-`))).toBe(true);
  });

  test("a failing release phase fails the deploy and the previous release keeps serving", async () => {
    await setVar("MARK", "second");
    await build(fixtureFiles({ Procfile: procfile(`sh -c 'echo "$MARK" > /data/marker.new; echo boom; exit 7'`) }));
    const before = kube.get("Deployment", NS, "app-web")!.metadata.labels["dev.ancla.version"];
    const d = await releaseAndDeploy();
    expect(d.status).toBe("error");
    expect(d.error_detail).toContain("exited with code 7");
    expect(d.error_detail).toContain("the previous release keeps serving");
    expect(d.deploy_log).toContain("release | boom");
    expect(kube.get("Deployment", NS, "app-web")!.metadata.labels["dev.ancla.version"]).toBe(before);
    expect(await served("marker")).toBe("first\n");
    expect(await served("marker.new")).toBe("second\n"); // the release phase did run, in the volume
  });

  test("a one-off run: output (redacted), exit code, the volume mounted; its Job is gone after", async () => {
    const r = await run(`echo "hello $API_TOKEN"; cat /data/marker; echo err >&2; exit 3`);
    expect(r.status).toBe("failed");
    expect(r.exit_code).toBe(3);
    expect(r.output).toContain("hello [redacted]\n");
    expect(r.output).toContain("first\n");
    expect(r.output).toContain("err\n");
    expect(r.output).not.toContain(SECRET);
    const ok = await run("echo fine > /data/from-run.txt && echo done");
    expect(ok).toMatchObject({ status: "succeeded", exit_code: 0 });
    expect(ok.output).toContain("done\n");
    await until("the run Jobs deleted", () => kube.list("Job", NS).length === 0);
  });

  test("the volume's data survives a redeploy (a new pod on the same claim)", async () => {
    await setVar("MARK", "third");
    await build(fixtureFiles({ Procfile: procfile(GOOD) }));
    const oldPod = kube.endpoints(NS, "app")[0]!.name;
    const d = await releaseAndDeploy();
    expect(d.status).toBe("complete");
    await until("the old pod gone", () => !kube.endpoints(NS, "app").some((p) => p.name === oldPod) && kube.endpoints(NS, "app").length === 1);
    expect(await served("marker")).toBe("third\n");
    expect(await served("from-run.txt")).toBe("fine\n");
    expect(await served("marker.new")).toBe("second\n");
  });

  test("volume backup and restore answer 409 saying they are not available on a kubernetes environment yet", async () => {
    const backup = await api("GET", `${SVC}/app/volumes/data/backup`);
    expect(backup.status).toBe(409);
    expect(backup.body.message).toContain("not supported on a kubernetes environment yet");
    const restore = await api("POST", `${SVC}/app/volumes/data/restore`, undefined, new Uint8Array(2 * 1024 * 1024) as unknown as BodyInit);
    expect(restore.status).toBe(409);
    expect(restore.body.message).toContain("not supported on a kubernetes environment yet");
    expect(await served("marker")).toBe("third\n"); // nothing touched
  });

  test("deleting the service with delete_volumes=true deletes the claim, and the data behind it goes", async () => {
    const uid = kube.get("PersistentVolumeClaim", NS, "app-data")!.metadata.uid;
    expect((await api("DELETE", `${SVC}/app?delete_volumes=true`)).status).toBeLessThan(300);
    await until("the claim deleted", () => !kube.get("PersistentVolumeClaim", NS, "app-data"), 60_000);
    // the test node's provisioner removes the Docker volume behind it once nothing mounts it
    await until("the backing Docker volume removed", async () => !((await testDocker().listVolumes()).Volumes ?? []).some((v) => v.Name.endsWith(`-pvc-${uid}`)), 60_000);
  });
});
