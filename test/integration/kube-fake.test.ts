// Self-test of the test Kubernetes API server (test/support/kube): @kubernetes/client-node against
// it over HTTPS with the generated kubeconfig's client certificate — CRUD, Status bodies,
// server-side apply idempotence, watches, subresources — and its kubelet running real containers
// pulled from a real registry (docker-registry with htpasswd) through an imagePullSecret.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { PatchStrategy, setHeaderOptions, type V1Deployment } from "@kubernetes/client-node";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BASE_IMAGE, ensureBaseImage, RUN_ID, RUN_LABELS, TEST_RUN_LABEL, testDocker } from "../support/docker";
import { startKubeApi, type KubeApi } from "../support/kube";
import { kubeClients, watchEvents, type KubeClients } from "../support/kube/client";
import { startRegistry, type TestRegistry } from "../support/registry";
import { rejectionOf } from "../support/settle";

setDefaultTimeout(300_000);

let api: KubeApi;
let reg: TestRegistry;
let c: KubeClients;
let image: string;
const NS = "fake-selftest";

async function until<T>(what: string, fn: () => Promise<T | undefined> | T | undefined, ms = 90_000): Promise<T> {
  const end = Date.now() + ms;
  let last: unknown;
  while (Date.now() < end) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v as T;
    } catch (e) {
      last = e;
    }
    await Bun.sleep(150);
  }
  throw new Error(`timed out waiting for ${what}${last ? ` (${(last as Error).message})` : ""}`);
}

async function push(ref: string): Promise<void> {
  const docker = testDocker();
  const [repo, tag] = [ref.slice(0, ref.lastIndexOf(":")), ref.slice(ref.lastIndexOf(":") + 1)];
  await docker.getImage(BASE_IMAGE).tag({ repo, tag });
  const stream = (await docker.getImage(ref).push({ authconfig: { username: reg.username, password: reg.password, serveraddress: reg.host } } as never)) as unknown as NodeJS.ReadableStream;
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null, out: any[]) => (err || out.find((x) => x.error) ? reject(err ?? new Error(out.find((x) => x.error).error)) : resolve())));
  // the node pulls it back from the registry: the local tag is not what the pod runs on
  await docker.getImage(ref).remove().catch(() => {});
}

const ssa = setHeaderOptions("Content-Type", PatchStrategy.ServerSideApply);
const merge = setHeaderOptions("Content-Type", PatchStrategy.MergePatch);
const strategic = setHeaderOptions("Content-Type", PatchStrategy.StrategicMergePatch);

function webDeployment(name: string, o: { image?: string; replicas?: number; greeting?: string; command?: string[] } = {}): V1Deployment {
  const labels = { app: name };
  return {
    apiVersion: "apps/v1",
    kind: "Deployment",
    metadata: { name, namespace: NS, labels },
    spec: {
      replicas: o.replicas ?? 1,
      selector: { matchLabels: labels },
      progressDeadlineSeconds: 600,
      strategy: { type: "RollingUpdate", rollingUpdate: { maxUnavailable: 0, maxSurge: 1 } },
      template: {
        metadata: { labels },
        spec: {
          imagePullSecrets: [{ name: "pull" }],
          containers: [
            {
              name: "web",
              image: o.image ?? image,
              command: o.command ?? ["sh", "-c", 'mkdir -p /w && echo "hello $GREETING from $(hostname)" > /w/index.html && echo "serving $GREETING" && exec httpd -f -p 8000 -h /w'],
              ports: [{ containerPort: 8000 }],
              envFrom: [{ secretRef: { name: "config" } }],
              env: [{ name: "GREETING", value: o.greeting ?? "one" }],
              readinessProbe: { httpGet: { path: "/", port: 8000, httpHeaders: [{ name: "Host", value: "web.example.test" }] }, periodSeconds: 1 },
            },
          ],
        },
      },
    },
  };
}

beforeAll(async () => {
  await ensureBaseImage();
  reg = await startRegistry();
  api = await startKubeApi({ docker: testDocker(), containerLabels: RUN_LABELS });
  c = kubeClients(api.kubeconfig());
  image = `${reg.host}/selftest/busybox:v1`;
  await push(image);
  await c.core.createNamespace({ body: { metadata: { name: NS } } });
  const dockerconfig = { auths: { [reg.host]: { username: reg.username, password: reg.password, auth: Buffer.from(`${reg.username}:${reg.password}`).toString("base64") } } };
  await c.core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "pull" }, type: "kubernetes.io/dockerconfigjson", stringData: { ".dockerconfigjson": JSON.stringify(dockerconfig) } } });
  await c.core.createNamespacedSecret({ namespace: NS, body: { metadata: { name: "config" }, stringData: { DATABASE_URL: "postgres://db/app" } } });
});

afterAll(async () => {
  await api?.stop();
  await reg?.stop();
  await testDocker().getImage(image).remove({ force: true }).catch(() => {});
});

describe("protocol", () => {
  test("a client without the client certificate is refused at the TLS handshake; discovery and version answer", async () => {
    const ca = api.pki.ca;
    await rejectionOf(fetch(`${api.url}/version`, { tls: { ca } } as RequestInit));
    const version = await c.request("/version").then((r) => r.json());
    expect(version.major).toBe("1");
    const groups = await c.request("/apis").then((r) => r.json());
    expect(groups.kind).toBe("APIGroupList");
    expect(groups.groups.map((g: any) => g.name)).toEqual(expect.arrayContaining(["apps", "networking.k8s.io", "authorization.k8s.io"]));
    expect(groups.groups.map((g: any) => g.name)).not.toContain("metrics.k8s.io");
    const apps = await c.apps.getAPIResources();
    expect(apps.resources.map((r) => r.name)).toEqual(expect.arrayContaining(["deployments", "deployments/status", "deployments/scale"]));
    // no metrics server on this cluster: a 404 Status, as a bare cluster answers
    const metrics = await c.request(`/apis/metrics.k8s.io/v1beta1/namespaces/${NS}/pods`);
    expect(metrics.status).toBe(404);
    expect((await metrics.json()).kind).toBe("Status");
  });

  test("a bearer token is required when configured: 401 Status without it; a token-only kubeconfig works without a client certificate", async () => {
    const tokenApi = await startKubeApi({ token: "t0ken-Secret", clientCert: false });
    try {
      const tc = kubeClients(tokenApi.kubeconfig({ withoutClientCert: true }));
      expect((await tc.core.listNamespace()).items.map((n) => n.metadata?.name)).toContain("default");
      const anonymous = await fetch(`${tokenApi.url}/api/v1/namespaces`, { tls: { ca: tokenApi.pki.ca } } as RequestInit);
      expect(anonymous.status).toBe(401);
      expect(await anonymous.json()).toMatchObject({ kind: "Status", reason: "Unauthorized", code: 401 });
    } finally {
      await tokenApi.stop();
    }
  });

  test("CRUD with Status bodies: 404 NotFound, 409 AlreadyExists, 409 Conflict on a stale resourceVersion, 422 Invalid", async () => {
    const cm = await c.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "crud", labels: { tier: "a" } }, data: { k: "v" } } });
    expect(cm.metadata?.uid).toBeTruthy();
    expect(cm.metadata?.resourceVersion).toBeTruthy();
    expect(cm.metadata?.creationTimestamp).toBeTruthy();
    const dup = await c.request(`/api/v1/namespaces/${NS}/configmaps`, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify({ metadata: { name: "crud" } }) });
    expect(dup.status).toBe(409);
    expect(await dup.json()).toMatchObject({ kind: "Status", apiVersion: "v1", status: "Failure", reason: "AlreadyExists", code: 409 });
    const listed = await c.core.listNamespacedConfigMap({ namespace: NS, labelSelector: "tier in (a,b)" });
    expect(listed.items.map((i) => i.metadata?.name)).toEqual(["crud"]);
    expect((await c.core.listNamespacedConfigMap({ namespace: NS, labelSelector: "tier!=a" })).items).toEqual([]);
    const updated = await c.core.replaceNamespacedConfigMap({ name: "crud", namespace: NS, body: { ...cm, data: { k: "w" } } });
    expect(Number(updated.metadata?.resourceVersion)).toBeGreaterThan(Number(cm.metadata?.resourceVersion));
    const stale = await c.request(`/api/v1/namespaces/${NS}/configmaps/crud`, { method: "PUT", headers: { "content-type": "application/json" }, body: JSON.stringify({ ...cm, data: { k: "x" } }) });
    expect(stale.status).toBe(409);
    expect((await stale.json()).reason).toBe("Conflict");
    await c.core.deleteNamespacedConfigMap({ name: "crud", namespace: NS });
    const gone = await c.core.readNamespacedConfigMap({ name: "crud", namespace: NS }).catch((e) => e);
    expect(gone.code).toBe(404);
    expect(JSON.parse(gone.body)).toMatchObject({ kind: "Status", reason: "NotFound", code: 404, details: { name: "crud", kind: "configmaps" } });
    const bad = await c.apps.createNamespacedDeployment({ namespace: NS, body: { ...webDeployment("bad"), spec: { ...webDeployment("bad").spec!, selector: { matchLabels: { app: "other" } } } } }).catch((e) => e);
    expect(bad.code).toBe(422);
    expect(JSON.parse(bad.body)).toMatchObject({ reason: "Invalid", details: { causes: [expect.objectContaining({ field: "spec.template.metadata.labels" })] } });
    const noNs = await c.core.createNamespacedConfigMap({ namespace: "missing-ns", body: { metadata: { name: "x" } } }).catch((e) => e);
    expect(noNs.code).toBe(404);
  });

  test("server-side apply creates, is idempotent (same generation and spec), bumps generation on a spec change; merge and strategic patches and the scale subresource", async () => {
    const body = { ...webDeployment("applied", { replicas: 0 }) };
    const first = await c.apps.patchNamespacedDeployment({ name: "applied", namespace: NS, body, fieldManager: "ancla", force: true }, ssa);
    expect(first.metadata?.generation).toBe(1);
    const again = await c.apps.patchNamespacedDeployment({ name: "applied", namespace: NS, body, fieldManager: "ancla", force: true }, ssa);
    expect(again.metadata?.generation).toBe(1);
    expect(again.spec).toEqual(first.spec);
    const changed = await c.apps.patchNamespacedDeployment({ name: "applied", namespace: NS, body: webDeployment("applied", { replicas: 0, greeting: "two" }), fieldManager: "ancla", force: true }, ssa);
    expect(changed.metadata?.generation).toBe(2);
    expect(api.requests.some((r) => r.method === "PATCH" && r.contentType === "application/apply-patch+yaml" && r.query.includes("fieldManager=ancla"))).toBe(true);
    // a field the manager applied before and leaves out now is removed
    const withAnno = { ...body, metadata: { ...body.metadata, annotations: { "ancla.dev/x": "1" } } };
    await c.apps.patchNamespacedDeployment({ name: "applied", namespace: NS, body: withAnno, fieldManager: "ancla", force: true }, ssa);
    const dropped = await c.apps.patchNamespacedDeployment({ name: "applied", namespace: NS, body, fieldManager: "ancla", force: true }, ssa);
    expect(dropped.metadata?.annotations?.["ancla.dev/x"]).toBeUndefined();
    const noManager = await c.request(`/apis/apps/v1/namespaces/${NS}/deployments/applied`, { method: "PATCH", headers: { "content-type": "application/apply-patch+yaml" }, body: JSON.stringify(body) });
    expect(noManager.status).toBe(422);
    const merged = await c.apps.patchNamespacedDeployment({ name: "applied", namespace: NS, body: { metadata: { labels: { extra: "yes" } }, spec: { replicas: 0 } } }, merge);
    expect(merged.metadata?.labels).toMatchObject({ app: "applied", extra: "yes" });
    const sm = await c.apps.patchNamespacedDeployment({ name: "applied", namespace: NS, body: { spec: { template: { spec: { containers: [{ name: "web", env: [{ name: "ADDED", value: "1" }] }] } } } } }, strategic);
    expect(sm.spec?.template.spec?.containers[0]?.image).toBe(image);
    const scale = await c.apps.readNamespacedDeploymentScale({ name: "applied", namespace: NS });
    expect(scale.spec?.replicas).toBe(0);
    expect(scale.status?.selector).toBe("app=applied");
    await c.apps.patchNamespacedDeploymentScale({ name: "applied", namespace: NS, body: { spec: { replicas: 0 } } }, merge);
    await c.apps.deleteNamespacedDeployment({ name: "applied", namespace: NS });
  });

  test("a watch from a resourceVersion delivers ADDED, MODIFIED and DELETED as newline-delimited JSON", async () => {
    const cm = await c.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "watched" }, data: { a: "1" } } });
    const w = await watchEvents(c, `/api/v1/namespaces/${NS}/configmaps?watch=1&fieldSelector=metadata.name%3Dwatched&resourceVersion=${Number(cm.metadata!.resourceVersion) - 1}`);
    const events = w.events;
    await c.core.patchNamespacedConfigMap({ name: "watched", namespace: NS, body: { data: { a: "2" } } }, merge);
    await c.core.deleteNamespacedConfigMap({ name: "watched", namespace: NS });
    await until("three watch events", () => events.length >= 3 || undefined);
    await w.stop();
    expect(events.map((e) => e.type)).toEqual(["ADDED", "MODIFIED", "DELETED"]);
    expect(events[1].object.data.a).toBe("2");
  });

  test("SelfSubjectAccessReview answers from the deny list, and a denied verb is 403 Forbidden", async () => {
    api.deny({ verb: "create", resource: "deployments", namespace: NS });
    try {
      const review = await c.authorization.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: NS, verb: "create", group: "apps", resource: "deployments" } } } });
      expect(review.status?.allowed).toBe(false);
      const denied = await c.apps.createNamespacedDeployment({ namespace: NS, body: webDeployment("denied") }).catch((e) => e);
      expect(denied.code).toBe(403);
      expect(JSON.parse(denied.body).reason).toBe("Forbidden");
    } finally {
      api.allowAll();
    }
    const ok = await c.authorization.createSelfSubjectAccessReview({ body: { spec: { resourceAttributes: { namespace: NS, verb: "create", group: "apps", resource: "deployments" } } } });
    expect(ok.status?.allowed).toBe(true);
  });
});

describe("controller and kubelet", () => {
  test("a Deployment pulled through the imagePullSecret becomes available; its pods answer HTTP on their host ports; a rolling update keeps every replica available", async () => {
    await c.apps.patchNamespacedDeployment({ name: "web", namespace: NS, body: webDeployment("web", { replicas: 2 }), fieldManager: "ancla", force: true }, ssa);
    const done = await until("web available", async () => {
      const d = await c.apps.readNamespacedDeployment({ name: "web", namespace: NS });
      return d.status?.availableReplicas === 2 && d.status.updatedReplicas === 2 && d.status.observedGeneration === d.metadata?.generation ? d : undefined;
    });
    expect(done.status?.conditions?.find((x) => x.type === "Progressing")?.reason).toBe("NewReplicaSetAvailable");
    const pods = api.podsOf(NS, "web");
    expect(pods).toHaveLength(2);
    for (const p of pods) {
      expect(p.ready).toBe(true);
      const text = await fetch(`http://127.0.0.1:${p.hostPort}/`).then((r) => r.text());
      expect(text).toContain("hello one");
    }
    const pod = await c.core.readNamespacedPod({ name: pods[0]!.name, namespace: NS });
    expect(pod.status?.podIP).toBe("127.0.0.1");
    const events = (await c.core.listNamespacedEvent({ namespace: NS, fieldSelector: `involvedObject.name=${pods[0]!.name}` })).items.map((e) => e.reason);
    expect(events).toEqual(expect.arrayContaining(["Scheduled", "Pulling", "Pulled", "Created", "Started"]));

    // rolling update: watch the status; with maxUnavailable 0 availability never drops below 2
    const w = await watchEvents(c, `/apis/apps/v1/namespaces/${NS}/deployments?watch=true&fieldSelector=metadata.name%3Dweb&resourceVersion=${done.metadata!.resourceVersion}`);
    const seen = w.events;
    const rolled = await c.apps.patchNamespacedDeployment({ name: "web", namespace: NS, body: webDeployment("web", { replicas: 2, greeting: "two" }), fieldManager: "ancla", force: true }, ssa);
    await until("rollout to two", async () => {
      const d = await c.apps.readNamespacedDeployment({ name: "web", namespace: NS });
      const s = d.status;
      return s?.observedGeneration === rolled.metadata?.generation && s?.updatedReplicas === 2 && s.availableReplicas === 2 && s.replicas === 2 || undefined;
    });
    await w.stop();
    expect(seen.length).toBeGreaterThan(2);
    for (const e of seen) expect(e.object.status.availableReplicas ?? 0).toBeGreaterThanOrEqual(2);
    expect(seen.some((e) => (e.object.status.replicas ?? 0) === 3)).toBe(true);
    for (const p of await until("two new pods", () => { const ps = api.podsOf(NS, "web").filter((x) => !x.terminating); return ps.length === 2 ? ps : undefined; })) {
      expect(await fetch(`http://127.0.0.1:${p.hostPort}/`).then((r) => r.text())).toContain("hello two");
    }
    const rss = (await c.apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: "app=web" })).items;
    expect(rss.map((r) => r.metadata?.annotations?.["deployment.kubernetes.io/revision"]).sort()).toEqual(["1", "2"]);

    // a third template: the old ReplicaSets are scaled down even though the oldest, listed first, is already empty
    const back = await c.apps.patchNamespacedDeployment({ name: "web", namespace: NS, body: webDeployment("web", { replicas: 2, greeting: "three" }), fieldManager: "ancla", force: true }, ssa);
    await until("rolled to three", async () => {
      const s = (await c.apps.readNamespacedDeployment({ name: "web", namespace: NS })).status;
      return (s?.observedGeneration === back.metadata?.generation && s?.updatedReplicas === 2 && s.availableReplicas === 2 && s.replicas === 2) || undefined;
    });
    const revs = (await c.apps.listNamespacedReplicaSet({ namespace: NS, labelSelector: "app=web" })).items.map((r) => [r.metadata?.annotations?.["deployment.kubernetes.io/revision"], r.spec?.replicas]);
    expect(revs.sort()).toEqual([["1", 0], ["2", 0], ["3", 2]]);
    const third = await until("two pods of the third template", () => { const ps = api.podsOf(NS, "web").filter((x) => !x.terminating); return ps.length === 2 ? ps : undefined; });
    for (const p of third) {
      expect(await fetch(`http://127.0.0.1:${p.hostPort}/`).then((r) => r.text())).toContain("hello three");
    }

    // pods/log: the output of a pod that serves (not one of the second template's, which may be
    // gone by the time its log is asked for)
    const log = await c.core.readNamespacedPodLog({ name: third[0]!.name, namespace: NS, container: "web", tailLines: 10 });
    expect(log).toContain("serving three");
  });

  test("a crashing command reaches CrashLoopBackOff with restarts; pods/log (previous) shows its output, env from the Secret included", async () => {
    await c.apps.createNamespacedDeployment({ namespace: NS, body: webDeployment("crash", { command: ["sh", "-c", "echo boom: missing DATABASE_URL=$DATABASE_URL; exit 3"] }) });
    const pod = await until("CrashLoopBackOff", () => api.podsOf(NS, "crash").find((p) => p.waiting === "CrashLoopBackOff" && p.restarts >= 2));
    const full = await c.core.readNamespacedPod({ name: pod.name, namespace: NS });
    const cs = full.status!.containerStatuses![0]!;
    expect(cs.state?.waiting?.reason).toBe("CrashLoopBackOff");
    expect(cs.lastState?.terminated?.exitCode).toBe(3);
    const log = await c.request(`/api/v1/namespaces/${NS}/pods/${pod.name}/log?container=web&previous=true`).then((r) => r.text());
    expect(log).toContain("boom: missing DATABASE_URL=postgres://db/app");
    const d = await c.apps.readNamespacedDeployment({ name: "crash", namespace: NS });
    expect(d.status?.availableReplicas ?? 0).toBe(0);
    await c.apps.deleteNamespacedDeployment({ name: "crash", namespace: NS });
  });

  test("a missing image reaches ErrImagePull/ImagePullBackOff; so does a registry image without the pull secret; progress deadline exceeded is reported", async () => {
    const missing = webDeployment("nopull", { image: `${reg.host}/selftest/absent:v9` });
    missing.spec!.progressDeadlineSeconds = 3;
    await c.apps.createNamespacedDeployment({ namespace: NS, body: missing });
    const pod = await until("ImagePullBackOff", () => api.podsOf(NS, "nopull").find((p) => p.waiting === "ImagePullBackOff"));
    const logs = await c.request(`/api/v1/namespaces/${NS}/pods/${pod.name}/log`);
    expect(logs.status).toBe(400);
    expect((await logs.json()).message).toContain("is waiting to start");
    const noSecret = webDeployment("nosecret");
    noSecret.spec!.template.spec!.imagePullSecrets = [];
    noSecret.spec!.template.spec!.containers[0]!.imagePullPolicy = "Always";
    await c.apps.createNamespacedDeployment({ namespace: NS, body: noSecret });
    await until("pull refused without credentials", () => api.podsOf(NS, "nosecret").find((p) => p.waiting === "ErrImagePull" || p.waiting === "ImagePullBackOff"));
    const failed = await until("ProgressDeadlineExceeded", async () => {
      const d = await c.apps.readNamespacedDeployment({ name: "nopull", namespace: NS });
      return d.status?.conditions?.find((x) => x.type === "Progressing" && x.reason === "ProgressDeadlineExceeded");
    });
    expect(failed.status).toBe("False");
    for (const n of ["nopull", "nosecret"]) await c.apps.deleteNamespacedDeployment({ name: n, namespace: NS });
  });

  test("scale through the scale subresource; a pod deleted with gracePeriodSeconds=0 goes at once and is replaced; deletecollection by label; deleting the namespace removes its pods' containers", async () => {
    await c.apps.patchNamespacedDeploymentScale({ name: "web", namespace: NS, body: { spec: { replicas: 1 } } }, merge);
    const [only] = await until("scaled to one", () => { const ps = api.podsOf(NS, "web").filter((p) => !p.terminating); return ps.length === 1 ? ps : undefined; });
    // a delete with gracePeriodSeconds=0 removes the pod at once; the ReplicaSet replaces it
    await c.core.deleteNamespacedPod({ name: only!.name, namespace: NS, gracePeriodSeconds: 0 });
    expect((await c.core.readNamespacedPod({ name: only!.name, namespace: NS }).catch((e) => e)).code).toBe(404);
    await until("a replacement pod", () => api.podsOf(NS, "web").find((p) => p.ready && p.name !== only!.name));
    expect(api.podsOf(NS, "web").map((p) => p.name)).not.toContain(only!.name);
    await c.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "l1", labels: { sweep: "yes" } } } });
    await c.core.createNamespacedConfigMap({ namespace: NS, body: { metadata: { name: "l2", labels: { sweep: "yes" } } } });
    await c.core.deleteCollectionNamespacedConfigMap({ namespace: NS, labelSelector: "sweep=yes" });
    expect((await c.core.listNamespacedConfigMap({ namespace: NS, labelSelector: "sweep=yes" })).items).toEqual([]);
    await c.core.deleteNamespace({ name: NS });
    expect((await c.core.readNamespace({ name: NS })).status?.phase).toBe("Terminating");
    await until("namespace gone", async () => ((await c.core.readNamespace({ name: NS }).catch((e) => e)).code === 404 ? true : undefined));
    // this process's containers only: another run of this file on the engine uses the same namespace name
    const left = await testDocker().listContainers({ all: true, filters: { label: [`io.kubernetes.pod.namespace=${NS}`, `${TEST_RUN_LABEL}=${RUN_ID}`] } });
    expect(left).toEqual([]);
  });

  test("kubectl reads the cluster through the same kubeconfig", async () => {
    if (!(await Bun.file("/usr/bin/kubectl").exists())) throw new Error("/usr/bin/kubectl is missing: apt-get install kubernetes-client");
    const dir = mkdtempSync(join(tmpdir(), "ancla-kubectl-"));
    try {
      writeFileSync(join(dir, "config"), api.kubeconfig());
      const p = Bun.spawn(["kubectl", "--kubeconfig", join(dir, "config"), "get", "namespaces", "-o", "json"], { stdout: "pipe", stderr: "pipe" });
      const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect(err).toBe("");
      expect(JSON.parse(out).items.map((i: any) => i.metadata.name)).toContain("default");
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
