// The Docker target's teardown is final, on the real engine: it returns only when no container of
// the service is left, and nothing of the service is healed back — not a replacement the
// self-healing loop was creating (its create held on its way to the engine, so the interleaving is
// driven, not timed), not one waiting to become ready, not a pass that comes after. A rollout begun
// after the teardown deploys the service again; a run that was going is removed with it. A container
// the engine does not remove fails the teardown, naming it; volumes go right after it.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { dockerTarget } from "../../src/targets/docker";
import type { DockerClient } from "../../src/targets/docker/client";
import type { ReadyCheck, ReleaseRun, ReplicaPlan, RolloutHooks, RolloutPlan } from "../../src/targets/target";
import { BASE_IMAGE, ensureBaseImage, removeOrgResources, RUN_ID, RUN_LABELS, testDocker } from "../support/docker";
import { poller } from "../support/poll";
import { rejectionOf } from "../support/settle";

// container starts and removals on a loaded engine outlast bun's 5 s default
setDefaultTimeout(300_000);

const until = poller(120_000);
const org = `td${RUN_ID}`.toLowerCase();
let serial = 0;

/** A fresh service of a worker process that sleeps (a heal of it is ready once it stayed up 2 s). */
function service(): { serviceId: string; release: ReleaseRun } {
  const n = ++serial;
  const serviceId = `svc-${RUN_ID}-${n}`;
  return {
    serviceId,
    release: {
      org,
      project: "p",
      env: "production",
      service: `s${n}`,
      serviceId,
      projectId: `project-${RUN_ID}`,
      releaseId: `rel-${RUN_ID}-${n}`,
      releaseVersion: 1,
      deploymentId: `dep-${RUN_ID}-${n}`,
      image: BASE_IMAGE,
      processes: { worker: "exec sleep 3600" },
      vars: {},
      port: 8000,
      privileged: false,
    },
  };
}

const replicaPlan = (r: ReleaseRun, attempt = 1): ReplicaPlan => ({ ...r, process: "worker", replica: 1, podClass: "nano", attempt });
const stableCheck: ReadyCheck = { port: 8000, web: false, healthCheckPath: "/", healthCheckHost: null, timeoutMs: 120_000 };
// checked as a web replica, a worker never gets a published port: it waits (running) until removed
const neverReady: ReadyCheck = { ...stableCheck, web: true };

/** Every container of the service the engine lists, replicas and one-offs, running or not (ids). */
async function leftOf(serviceId: string): Promise<string[]> {
  const d = testDocker();
  const replicas = await d.listContainers({ all: true, filters: { label: [`dev.ancla.service-id=${serviceId}`] } });
  const oneOffs = await d.listContainers({ all: true, filters: { label: [`dev.ancla.one-off-service-id=${serviceId}`] } });
  return [...replicas, ...oneOffs].map((c) => c.Id);
}

/** The real client, whose container creates wait at a gate while it is armed (to hold one on its way to the engine). */
function gatedDocker() {
  const real = testDocker();
  const client = Object.create(real) as DockerClient;
  let armed = false;
  let reached!: () => void;
  let open!: () => void;
  const state = {
    client,
    /** resolves when a create is held at the gate */
    reached: Promise.resolve(),
    arm() {
      armed = true;
      state.reached = new Promise<void>((r) => (reached = r));
      gate = new Promise<void>((r) => (open = r));
    },
    release() {
      armed = false;
      open();
    },
  };
  let gate = Promise.resolve();
  client.createContainer = (async (opts: unknown) => {
    if (armed) {
      reached();
      await gate;
    }
    return real.createContainer(opts as never);
  }) as never;
  return state;
}

const hooks = (): RolloutHooks => ({ log: () => {}, step: () => {}, started: () => {}, switchTraffic: async () => {}, commit: () => {} });
const rolloutPlan = (r: ReleaseRun): RolloutPlan => ({
  ...r,
  healthCheckPath: "/",
  healthCheckHost: null,
  timeoutMs: 120_000,
  counts: { worker: 1 },
  podClasses: { worker: "nano" },
  current: [],
  inPlace: false,
});

beforeAll(async () => {
  await ensureBaseImage();
});

afterAll(async () => {
  await removeOrgResources(org);
  const { Volumes } = await testDocker().listVolumes({ filters: { label: [`dev.ancla.org=${org}`] } });
  for (const v of Volumes ?? []) await testDocker().getVolume(v.Name).remove().catch(() => {});
});

test("a replacement whose create is on its way when the teardown begins: the teardown waits for it and removes it, the replacement fails, nothing is left", async () => {
  const { serviceId, release } = service();
  const gated = gatedDocker();
  const target = dockerTarget(() => gated.client, { labels: RUN_LABELS });
  gated.arm();
  const heal = target.supervision.replaceReplica(replicaPlan(release), stableCheck);
  const healed = heal.then(
    (r) => ({ ok: true as const, id: r.id }),
    (e: Error) => ({ ok: false as const, error: e.message }),
  );
  await gated.reached; // the self-healing pass is creating the replacement right now
  const teardown = target.teardown(serviceId);
  gated.release();
  await teardown;
  expect(await leftOf(serviceId)).toEqual([]);
  const outcome = await healed;
  expect(outcome).toEqual({ ok: false, error: "The service is being removed: nothing more of it is started." });
  expect(await leftOf(serviceId)).toEqual([]);
});

test("a replacement waiting to become ready when the teardown begins is removed with the service; a pass after the teardown starts nothing", async () => {
  const { serviceId, release } = service();
  const target = dockerTarget(() => testDocker(), { labels: RUN_LABELS });
  const heal = target.supervision.replaceReplica(replicaPlan(release), neverReady);
  const healed = heal.then(
    () => "ready",
    (e: Error) => e.message,
  );
  const [replacement] = await until("the replacement to run", async () => {
    const ids = (await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${serviceId}`] } })).map((c) => c.Id);
    return ids.length ? ids : undefined;
  });
  await target.teardown(serviceId);
  expect(await leftOf(serviceId)).toEqual([]);
  expect(await healed).toMatch(/the container disappeared|exited with code/);
  await rejectionOf(testDocker().getContainer(replacement!).inspect());
  // the removed replica looks crashed to the next pass: nothing is started for a torn-down service
  expect((await rejectionOf(target.supervision.replaceReplica(replicaPlan(release, 2), stableCheck))).message).toContain("The service is being removed");
  expect(await leftOf(serviceId)).toEqual([]);
});

test("a run going when the teardown begins is removed with the service; a rollout begun after the teardown deploys it again and replicas are replaced again", async () => {
  const { serviceId, release } = service();
  const target = dockerTarget(() => testDocker(), { labels: RUN_LABELS });
  const output: string[] = [];
  const run = target.runOnce!({ ...release, kind: "run", runId: `run-${RUN_ID}`, command: "echo started; exec sleep 3600", podClass: "nano", timeoutMs: 300_000 }, { output: (c) => output.push(c) });
  await until("the run to print", () => output.join("").includes("started"));
  await target.teardown(serviceId);
  expect(await leftOf(serviceId)).toEqual([]);
  // stopped by the teardown: SIGTERM reaches the app through the replica's init (143), or the removal's SIGKILL came first (137)
  expect([null, 137, 143]).toContain((await run).exitCode);

  const serving = await target.rollout(rolloutPlan(release), hooks());
  expect(serving.map((r) => [r.process, r.replica])).toEqual([["worker", 1]]);
  const fresh = await target.supervision.replaceReplica(replicaPlan(release), stableCheck);
  expect((await leftOf(serviceId)).sort()).toEqual([serving[0]!.id, fresh.id].sort());
  await target.teardown(serviceId);
  expect(await leftOf(serviceId)).toEqual([]);
});

test("a container the engine does not remove fails the teardown after its bound, naming the container and the engine's error", async () => {
  const { serviceId } = service();
  const real = testDocker();
  const stuck = await real.createContainer({
    Image: BASE_IMAGE,
    Cmd: ["sleep", "3600"],
    Labels: { ...RUN_LABELS, "dev.ancla.managed": "true", "dev.ancla.org": org, "dev.ancla.service-id": serviceId },
  } as never);
  await stuck.start();
  // an engine that answers every stop and removal of it with an error
  const refusing = Object.create(real) as DockerClient;
  refusing.getContainer = ((id: string) => {
    const c = real.getContainer(id);
    const fail = async () => {
      throw Object.assign(new Error("removal refused by the test"), { statusCode: 500 });
    };
    return Object.assign(Object.create(c), { stop: fail, remove: fail });
  }) as never;
  const target = dockerTarget(() => refusing, { labels: RUN_LABELS, teardownTimeoutMs: 2000 });
  const error = await target.teardown(serviceId).then(
    () => null,
    (e: Error) => e.message,
  );
  expect(error).toBe(`The Docker engine did not remove 1 container(s) of the service within 2 s (${stuck.id.slice(0, 12)}): removal refused by the test. Remove them on the host (docker rm -f).`);
  expect(await leftOf(serviceId)).toEqual([stuck.id]);
  await dockerTarget(() => real, { labels: RUN_LABELS }).teardown(serviceId);
  expect(await leftOf(serviceId)).toEqual([]);
});

test("after the teardown the service's volumes go at once; one still mounted by a container outside Ancla is kept and the error names that container", async () => {
  const { serviceId, release } = service();
  const real = testDocker();
  const target = dockerTarget(() => real, { labels: RUN_LABELS });
  const vol = `ancla-vol-${serviceId}-data`;
  const volumes = { ...release, volumes: [{ name: "data", mountPath: "/data" }] };
  // a run creates the volume and writes into it
  expect((await target.runOnce!({ ...volumes, kind: "run", runId: `run-${RUN_ID}-v`, command: "echo x > /data/x", podClass: "nano", timeoutMs: 120_000 }, { output: () => {} })).exitCode).toBe(0);
  const outside = await real.createContainer({ Image: BASE_IMAGE, Cmd: ["true"], Labels: { ...RUN_LABELS, "dev.ancla.org": org }, HostConfig: { Mounts: [{ Type: "volume", Source: vol, Target: "/v" }] } } as never);
  await target.teardown(serviceId);
  expect((await rejectionOf(target.volumes!.remove(volumes, ["data"]))).message).toContain(`The Docker volume(s) ${vol} (mounted by container ${outside.id.slice(0, 12)}) are still in use and were kept`);
  expect((await real.getVolume(vol).inspect()).Name).toBe(vol);
  await outside.remove({ force: true });
  await target.volumes!.remove(volumes, ["data"]);
  await rejectionOf(real.getVolume(vol).inspect());
});
