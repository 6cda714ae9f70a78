// The deploy job drives the target interface (src/targets/target.ts) and nothing else: with a fake
// target in place of Docker, a deployment hands it a plain plan (image, processes, opened config,
// counts, health check) and records what the target reports; an environment whose kind of
// target this server lacks fails with the "not available" message and the target is never called.
import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { testApp, type TestApp } from "../support/app";
import { startWorker, type Worker } from "../../src/jobs/worker";
import { waitForJob } from "../../src/jobs/queue";
import { insertImage } from "../../src/modules/images/repo";
import { newId } from "../../src/lib/ids";
import { TargetUnavailable, type DeployTarget, type RolloutPlan, type Supervision, type Targets } from "../../src/targets/target";

setDefaultTimeout(180_000);

/** A target that records plans and "runs" one replica per wanted process without any runtime. */
function fakeTargets() {
  const plans: RolloutPlan[] = [];
  const unsupported = () => {
    throw new Error("not used by this test");
  };
  const local = {
    kind: "docker",
    ping: async () => {},
    async rollout(plan, hooks) {
      plans.push(plan);
      hooks.step("start", 2);
      const serving = Object.entries(plan.counts).flatMap(([process, n]) =>
        Array.from({ length: n }, (_, i) => ({ id: `${process}-${i + 1}-${plan.deploymentId}`, process, replica: i + 1, hostPort: process === "web" ? 40000 + i : null, deploymentId: plan.deploymentId, podClass: plan.podClasses[process] ?? "small", releaseId: plan.releaseId })),
      );
      hooks.started(serving.map((r) => r.id));
      await hooks.switchTraffic(serving.filter((r) => r.hostPort).map((r) => ({ id: r.id, port: r.hostPort! })));
      hooks.commit(serving);
      return serving;
    },
    findReplicas: async () => [],
    inspectReplica: async () => null,
    removeReplicas: async () => {},
    teardown: async () => {},
    logSources: async () => [],
    tailLog: async () => [],
    followLog: async () => null,
    usageReader: unsupported,
    supervision: { watch: unsupported, probe: unsupported, startReplica: unsupported, waitReady: unsupported, replaceReplica: unsupported } as unknown as Supervision,
  } satisfies DeployTarget & { supervision: Supervision };
  const targets: Targets = {
    local,
    forEnv: (env) => {
      if (env.target === "docker") return local;
      throw new TargetUnavailable(env.target);
    },
  };
  return { targets, plans };
}

let t: TestApp;
let worker: Worker;
let key: string;
let fake: ReturnType<typeof fakeTargets>;
const P = "/api/v1/orgs/acme/projects/web";

async function builtService(env: string) {
  const svc = await t.req("POST", `${P}/envs/${env}/services`, { name: "api", process_counts: { web: 2, worker: 1 } }, { key });
  expect(svc.status).toBe(201);
  const now = new Date().toISOString();
  insertImage(t.deps.db, {
    id: newId(), serviceId: svc.body.id, version: 1, status: "complete", source: "image", repositoryName: `ancla/acme-web-${env}-api`, tag: "v1",
    dockerImageId: "sha256:" + "ab".repeat(32), processes: { web: null, worker: "run-worker" }, createdAt: now, updatedAt: now,
  });
  const rel = await t.req("POST", `/api/v1/releases/${svc.body.id}/create`, undefined, { key });
  expect(rel.status).toBe(201);
  const d = await t.req("POST", `/api/v1/releases/${rel.body.release_id}/deploy`, undefined, { key });
  expect(d.status).toBe(201);
  const detail = (await t.req("GET", `/api/v1/deployments/${d.body.deployment_id}/detail`, undefined, { key })).body;
  await waitForJob(t.deps, detail.job_id, 20_000);
  return { serviceId: svc.body.id, deployment: (await t.req("GET", `/api/v1/deployments/${d.body.deployment_id}/detail`, undefined, { key })).body };
}

beforeEach(async () => {
  fake = fakeTargets();
  t = await testApp({}, { targets: fake.targets });
  key = (await t.user("owner")).key;
  expect((await t.req("POST", "/api/v1/organizations", { name: "Acme", slug: "acme" }, { key })).status).toBe(201);
  expect((await t.req("POST", "/api/v1/orgs/acme/projects", { name: "Web", slug: "web" }, { key })).status).toBe(201);
  expect((await t.req("POST", `${P}/envs/production/config`, { name: "TOKEN", value: "fake-target-secret", secret: true }, { key })).status).toBe(201);
  worker = await startWorker(t.deps);
});
afterEach(async () => {
  await worker.stop();
  t.close();
});

describe("the deploy job and the target interface", () => {
  test("a plain plan goes to the environment's target; what it reports serves", async () => {
    const { serviceId, deployment } = await builtService("production");
    expect(deployment.status).toBe("complete");
    expect(fake.plans).toHaveLength(1);
    const plan = fake.plans[0]!;
    expect(plan).toMatchObject({
      org: "acme", project: "web", env: "production", service: "api", serviceId,
      image: "sha256:" + "ab".repeat(32), processes: { web: null, worker: "run-worker" }, counts: { web: 2, worker: 1 },
      port: 8000, healthCheckPath: "/_health/", inPlace: false, current: [],
    });
    expect(plan.vars.TOKEN).toBe("fake-target-secret"); // opened for the runtime only
    expect("labels" in plan).toBe(false); // labels are the target's own setting (--container-labels)
    const detail = (await t.req("GET", `${P}/envs/production/services/api`, undefined, { key })).body;
    expect(detail.replicas.map((r: { process: string; replica: number; state: string }) => [r.process, r.replica, r.state])).toEqual([
      ["web", 1, "running"],
      ["web", 2, "running"],
      ["worker", 1, "running"],
    ]);
  });

  test("on a server without a kubernetes target, a kubernetes environment fails with 'not available' and no target is asked", async () => {
    const kubeconfig = "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\nusers:\n- name: u\n  user: { token: t }\ncontexts:\n- name: x\n  context: { cluster: c, user: u }\ncurrent-context: x\n";
    expect((await t.req("POST", `${P}/envs`, { name: "Cluster", slug: "cluster", target: "kubernetes", kubeconfig }, { key })).status).toBe(201);
    const { deployment } = await builtService("cluster");
    expect(deployment.status).toBe("error");
    expect(deployment.error_detail).toBe("The kubernetes target is not available on this server yet.");
    expect(fake.plans).toHaveLength(0);
  });
});
