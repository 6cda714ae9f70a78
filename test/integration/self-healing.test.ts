// Self-healing on the real Docker engine, through the router's real 127.0.0.1 port: a replica
// Docker restarts on another port is served again, a killed or removed replica is brought back by
// Ancla (and counted), and a scale that fails or is interrupted leaves process_counts equal to
// what runs. Nothing here restarts the in-process server's router.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { deployHarness, fixtureFiles, type DeployHarness } from "../fixtures/webapp/support";
import { testDocker } from "../support/docker";
import { startWorker, type Worker } from "../../src/jobs/worker";

// Docker builds and rollouts outlast bun's 5 s default; plain `bun test` (README, CI) passes no --timeout
setDefaultTimeout(300_000);

let h: DeployHarness;
let appId: string;
let extraWorker: Worker | undefined;

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 90_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v !== undefined && v !== false) return v;
    } catch (e) {
      last = e;
    }
    if (Date.now() > deadline) {
      throw new Error(`timed out waiting for ${what}${last ? ` (last error: ${(last as Error).message})` : ""}; replica views seen:\n${seen.join("\n")}`);
    }
    await Bun.sleep(100);
  }
}

const running = async (serviceId: string, process?: string) =>
  (await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${serviceId}`, ...(process ? [`dev.ancla.process=${process}`] : [])] } })).map((c) => c.Id);

const hostPortOf = async (id: string) => Number((await testDocker().getContainer(id).inspect()).NetworkSettings.Ports["8000/tcp"]?.[0]?.HostPort ?? 0);

// each change of what the API shows of a service's replicas, with its time: a test that times out
// says what it saw instead of only what it waited for
const seen: string[] = [];
const detail = async (svc: string) => {
  const r = await h.t.req("GET", `${h.base()}/${svc}`, undefined, { key: h.key });
  expect(r.status).toBe(200);
  const view = `${svc} ${JSON.stringify(r.body.replicas)}`;
  if (seen.at(-1)?.slice(25) !== view) seen.push(`${new Date().toISOString()} ${view}`);
  if (seen.length > 40) seen.splice(0, seen.length - 40);
  return r.body;
};

const serves = (svc: string) => until(`${svc} to answer 200 through the router`, async () => (await h.get(h.host(svc), "/_health/")).status === 200);

beforeAll(async () => {
  h = await deployHarness("heal");
  appId = await h.service("app", { process_counts: { web: 1 }, deployment_timeout: 30 });
  await h.build("app");
  const d = await h.deploy((await h.release(appId)).release_id);
  expect(d.status).toBe("complete");
  expect((await h.get(h.host("app"), "/_health/")).status).toBe(200);
});

afterAll(async () => {
  await extraWorker?.stop();
  await h?.close();
});

describe("replicas restarted or lost outside Ancla", () => {
  test("a container Docker restarts on a changed port is served again through the router, without restarting ancla", async () => {
    const [id] = await running(appId);
    const before = await hostPortOf(id!);
    let after = before;
    // Docker hands out the next free ephemeral port; restart again in the unlikely case it reused it
    for (let i = 0; i < 3 && after === before; i++) {
      await testDocker().getContainer(id!).restart({ t: 1 });
      after = await hostPortOf(id!);
    }
    expect(after).not.toBe(before);
    await serves("app");
    const replicas = await until("the replica view to show the new port", async () => {
      const r = (await detail("app")).replicas;
      return r[0]?.host_port === after && r[0]?.state === "running" ? r : undefined;
    });
    expect(replicas).toEqual([expect.objectContaining({ process: "web", replica: 1, container_id: id!.slice(0, 12), in_rotation: true })]);
    // the deployment's record follows the port (a failed rollout falls back to it)
    const current = (await detail("app")).latest_deployment;
    expect(current.deploy_metadata.replicas[0]).toMatchObject({ id, hostPort: after });
  });

  test("docker stop + docker start: served again on the new port", async () => {
    const [id] = await running(appId);
    const before = await hostPortOf(id!);
    await testDocker().getContainer(id!).stop({ t: 1 });
    // Ancla may already have started it again (a stopped replica is dead to it): 304 is fine
    await testDocker().getContainer(id!).start().catch((e: { statusCode?: number }) => expect(e.statusCode).toBe(304));
    await until("a new port", async () => (await hostPortOf(id!)) !== before);
    await serves("app");
    expect(await running(appId)).toEqual([id!]);
  });

  test("docker kill of the only replica: Ancla restarts it, the router serves again, the restart is counted", async () => {
    const [id] = await running(appId);
    const restartsBefore = (await detail("app")).replicas[0].ancla_restarts;
    await testDocker().getContainer(id!).kill();
    await serves("app");
    const view = await until("the replica to be running again", async () => {
      const r = (await detail("app")).replicas;
      return r[0]?.state === "running" && r[0].ancla_restarts > restartsBefore ? r[0] : undefined;
    });
    expect(view).toMatchObject({ process: "web", replica: 1, container_id: id!.slice(0, 12), exit_code: 137, in_rotation: true, last_error: null });
    expect(view.last_exit_at).toEqual(expect.any(String));
    expect(view.restart_count).toBeGreaterThanOrEqual(view.ancla_restarts);
    const svc = await detail("app");
    expect(svc.process_counts).toEqual({ web: 1 });
    expect(await running(appId)).toEqual([id!]);
  });

  test("docker rm -f of the only replica: a replacement from the same release starts, is served and recorded", async () => {
    const [old] = await running(appId);
    const restartsBefore = (await detail("app")).replicas[0].ancla_restarts;
    await testDocker().getContainer(old!).remove({ force: true });
    await serves("app");
    const [fresh] = await until("one new container", async () => {
      const ids = await running(appId);
      return ids.length === 1 && ids[0] !== old ? ids : undefined;
    });
    const info = await testDocker().getContainer(fresh!).inspect();
    expect(info.Config.Labels).toMatchObject({ "dev.ancla.service-id": appId, "dev.ancla.process": "web", "dev.ancla.replica": "1" });
    expect(info.HostConfig.RestartPolicy?.Name).toBe("unless-stopped");
    const svc = await detail("app");
    expect(svc.process_counts).toEqual({ web: 1 });
    expect(svc.replicas).toEqual([expect.objectContaining({ container_id: fresh!.slice(0, 12), state: "running", ancla_restarts: restartsBefore + 1, in_rotation: true })]);
    expect(svc.latest_deployment.deploy_metadata.replicas.map((r: { id: string }) => r.id)).toEqual([fresh]);
    // the log line may land just after the replica list shows the replacement. `docker rm -f`
    // kills before it removes: a pass that runs between the two sees the container exited (137, or no code yet),
    // finds it gone when it tries to start it, and replaces it — the line then says so
    const replacedLine = /web replica 1 (was removed|exited( with code \d+)?); replaced by Ancla/;
    const logText = await until("the replacement in the deployment log", async () => {
      const log = await h.t.req("GET", `/api/v1/deployments/${svc.latest_deployment.id}/log`, undefined, { key: h.key });
      return replacedLine.test(String(log.body.log_text)) ? String(log.body.log_text) : undefined;
    });
    expect(logText).toMatch(replacedLine);
  });
});

describe("a replica that crashes whenever it restarts", () => {
  test("Docker's policy loops it with its own backoff, Ancla shows the failure without piling on; once removed, a fresh replacement serves", async () => {
    // the first start leaves a mark in the container's own /tmp; every later start of that container exits 4
    const web = 'web: if [ -e /tmp/started ]; then echo "crashed on restart"; exit 4; fi; touch /tmp/started; exec httpd -f -p "$PORT" -h /www\n';
    // the crash is seen at once (a restarting container fails the wait); the timeout only bounds how long
    // the replacement after `rm -f` may take to answer: 10 s is short for an engine on a loaded machine
    const flakyId = await h.service("flaky", { process_counts: { web: 1 }, deployment_timeout: 60 });
    await h.build("flaky", fixtureFiles({ Procfile: web }));
    expect((await h.deploy((await h.release(flakyId)).release_id)).status).toBe("complete");
    await serves("flaky");

    const [id] = await running(flakyId);
    await testDocker().getContainer(id!).kill();
    const failing = await until("the failed restart to show", async () => {
      const r = (await detail("flaky")).replicas[0];
      // "exited with code 4; …", or on a busy engine "exited and was restarted by Docker 1 time(s) while starting; …"
      return /^exited (with code 4|and was restarted by Docker \d+ time\(s\) while starting); last output: crashed on restart/.test(r?.last_error ?? "") && r.state === "restarting" ? r : undefined;
    });
    expect(failing).toMatchObject({ container_id: id!.slice(0, 12), exit_code: 4, ancla_restarts: 0, in_rotation: false });
    expect((await h.get(h.host("flaky"), "/_health/")).status).toBe(503);
    // Docker keeps restarting it (restart_count grows); Ancla started it once and leaves it to the policy
    await until("Docker's own restarts", async () => (await detail("flaky")).replicas[0].docker_restarts >= 2);
    expect((await detail("flaky")).replicas[0].ancla_restarts).toBe(0);

    await testDocker().getContainer(id!).remove({ force: true });
    await serves("flaky");
    const svc = await detail("flaky");
    expect(svc.replicas).toEqual([expect.objectContaining({ state: "running", ancla_restarts: 1, in_rotation: true, last_error: null })]);
    expect(svc.replicas[0].container_id).not.toBe(id!.slice(0, 12));
  });
});

describe("process_counts stay equal to what runs", () => {
  let crashyId: string;

  beforeAll(async () => {
    // a release with a process that exits at once and one that runs (healthy after 2 s)
    const procfile = 'web: exec httpd -f -p "$PORT" -h /www\nworker: exec sh -c \'while true; do sleep 1; done\'\ncrash: exit 3\n';
    crashyId = await h.service("crashy", { process_counts: { web: 1, worker: 0, crash: 0 }, deployment_timeout: 30 });
    await h.build("crashy", fixtureFiles({ Procfile: procfile }));
    const d = await h.deploy((await h.release(crashyId)).release_id);
    expect(d.status).toBe("complete");
  });

  const scale = async (counts: Record<string, number>) => {
    const r = await h.t.req("POST", `/api/v1/applications/${crashyId}/scale`, { process_counts: counts }, { key: h.key });
    expect(r.status).toBe(201);
    const list = await h.t.req("GET", `/api/v1/applications/${crashyId}/deployments`, undefined, { key: h.key });
    return { response: r.body, deploymentId: list.body.items[0].id as string };
  };

  test("a scale that fails the health gate: the response has the requested counts, then process_counts go back to what runs", async () => {
    const { response, deploymentId } = await scale({ crash: 1 });
    expect(response.process_counts).toEqual({ web: 1, worker: 0, crash: 1 }); // what the reference client expects back
    const done = await h.waitDeployment(deploymentId);
    expect(done.status).toBe("error");
    expect(done.error_detail).toContain("crash replica 1 exited");
    const svc = await detail("crashy");
    expect(svc.process_counts).toEqual({ web: 1, worker: 0, crash: 0 });
    expect(svc.replicas.map((r: { process: string; state: string }) => `${r.process}:${r.state}`)).toEqual(["web:running"]);
    expect(await running(crashyId, "crash")).toEqual([]);
    expect((await running(crashyId)).length).toBe(1);
  });

  test("a scale interrupted by a server stop: after the restart process_counts equal what runs", async () => {
    const { deploymentId } = await scale({ worker: 1 });
    // the worker replica must stay up 2 s before the health gate passes: stop the server in that window
    await until("the scale's health step", async () => (await h.t.req("GET", `/api/v1/deployments/${deploymentId}/detail`, undefined, { key: h.key })).body.deploy_step?.name === "health");
    await h.worker.stop();
    expect((await detail("crashy")).process_counts).toEqual({ web: 1, worker: 1, crash: 0 }); // not yet known to have failed
    extraWorker = await startWorker(h.t.deps); // a restart first finishes interrupted jobs
    const d = await h.t.req("GET", `/api/v1/deployments/${deploymentId}/detail`, undefined, { key: h.key });
    expect(d.body).toMatchObject({ status: "error", error_detail: "interrupted by server restart" });
    expect((await detail("crashy")).process_counts).toEqual({ web: 1, worker: 0, crash: 0 });
    expect(await running(crashyId, "worker")).toEqual([]);
    // and a scale after that works and is kept
    const again = await scale({ worker: 1 });
    expect((await h.waitDeployment(again.deploymentId)).status).toBe("complete");
    expect((await detail("crashy")).process_counts).toEqual({ web: 1, worker: 1, crash: 0 });
    expect((await running(crashyId, "worker")).length).toBe(1);
  });
});
