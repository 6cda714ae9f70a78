// Real containers with known load, sampled from their cgroup files: a CPU spinner capped at half
// a core, a process holding 64 MiB in a tmpfs, an idle one. The sampled values land within
// tolerance, the Docker API fallback agrees, and both route forms answer with the contract shape.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ensureBaseImage, requireDocker, RUN_ID, TEST_RUN_LABEL } from "../support/docker";
import type { DockerClient } from "../../src/targets/docker/client";
import { testApp, type TestApp } from "../support/app";
import { usageFixture } from "../support/usage-fixture";
import { referenceProblems } from "../support/reference-schema";
import { createUsageReader } from "../../src/targets/docker/usage";
import { startSampler, type Sampler } from "../../src/modules/observability/sampler";

setDefaultTimeout(300_000);

const MiB = 1024 * 1024;
let docker: DockerClient;
let t: TestApp;
let key: string;
let serviceId: string;
let sampler: Sampler;
const ids: Record<"spin" | "fill" | "idle", string> = { spin: "", fill: "", idle: "" };

async function run(name: string, cmd: string, host: Record<string, unknown> = {}): Promise<string> {
  const c = await docker.createContainer({
    Image: "ancla-test/busybox",
    name: `ancla-obs-${RUN_ID}-${name}`,
    Cmd: ["sh", "-c", cmd],
    Labels: { [TEST_RUN_LABEL]: RUN_ID },
    HostConfig: { AutoRemove: false, ...host },
  });
  await c.start();
  return c.id;
}

beforeAll(async () => {
  docker = await requireDocker();
  await ensureBaseImage();
  ids.spin = await run("spin", "while :; do :; done", { NanoCpus: 500_000_000 });
  ids.fill = await run("fill", "dd if=/dev/zero of=/fill/blob bs=1048576 count=64 2>/dev/null; exec sleep 3600", { Tmpfs: { "/fill": "size=128m" } });
  ids.idle = await run("idle", "exec sleep 3600");
  await Bun.sleep(1500); // dd done, spinner at its cap
  t = await testApp({ sampleInterval: 15 });
  key = (await t.user("owner")).key;
  ({ serviceId } = await usageFixture(t, key, [
    { id: ids.spin, process: "web", replica: 1 },
    { id: ids.fill, process: "worker", replica: 1 },
    { id: ids.idle, process: "worker", replica: 2 },
  ]));
  sampler = startSampler(t.deps, { intervalMs: 0 });
});

afterAll(async () => {
  await sampler?.stop();
  t?.close();
  for (const id of Object.values(ids)) if (id) await docker.getContainer(id).remove({ force: true }).catch(() => undefined);
});

describe("usage of real containers", () => {
  test("cgroup files: spinner ≈ 500 m, 64 MiB tmpfs counted, idle ≈ 0; the API fallback agrees", async () => {
    const files = createUsageReader(docker);
    const first = await files.read(Object.values(ids).map((id) => ({ id })));
    await Bun.sleep(2000);
    const second = await files.read(Object.values(ids).map((id) => ({ id })));
    const milli = (id: string) => (second.get(id)!.cpuUsec - first.get(id)!.cpuUsec) / (second.get(id)!.atMs - first.get(id)!.atMs);
    expect(["cgroup1", "cgroup2"]).toContain(second.get(ids.spin)!.source);
    expect(milli(ids.spin)).toBeGreaterThan(50); // capped at 500 m; a host at load 10 on 2 cores gave it ~300 m, at load 25 (parallel test files) ~170 m; idle stays < 20
    expect(milli(ids.spin)).toBeLessThan(560);
    expect(milli(ids.idle)).toBeLessThan(20);
    const mem = second.get(ids.fill)!.memoryBytes;
    expect(mem).toBeGreaterThanOrEqual(64 * MiB);
    expect(mem).toBeLessThan(80 * MiB);
    expect(second.get(ids.idle)!.memoryBytes).toBeLessThan(8 * MiB);
    expect(second.get(ids.idle)!.rxBytes).not.toBeNull(); // /proc/<pid>/net/dev of its namespace

    const api = await createUsageReader(docker, { apiOnly: true }).read([{ id: ids.fill }]);
    expect(api.get(ids.fill)!.source).toBe("docker-api");
    expect(Math.abs(api.get(ids.fill)!.memoryBytes - mem)).toBeLessThan(4 * MiB);
  });

  test("the sampler stores them; both route forms answer with the reference shape", async () => {
    await sampler.sampleOnce();
    await Bun.sleep(3000);
    const latest = await sampler.sampleOnce();
    const spin = latest.find((l) => l.containerId === ids.spin)!;
    expect(spin.cpuMillicores!).toBeGreaterThan(50); // a loaded host gives the spinner less than its 500 m
    expect(spin.cpuMillicores!).toBeLessThan(560);
    expect(latest.find((l) => l.containerId === ids.fill)!.memoryBytes!).toBeGreaterThanOrEqual(64 * MiB);

    // the history's buckets end at the current second: two requests that straddle a second
    // differ by it, so ask both again (a few times at most) until they were answered in one second
    let byId = await t.req("GET", `/api/v1/applications/${serviceId}/observability?range=1h`, undefined, { key });
    let byPath = await t.req("GET", "/api/v1/applications/acme/web/api/observability?range=1h", undefined, { key });
    for (let i = 0; i < 5 && !Bun.deepEquals(byPath.body.history, byId.body.history); i++) {
      byId = await t.req("GET", `/api/v1/applications/${serviceId}/observability?range=1h`, undefined, { key });
      byPath = await t.req("GET", "/api/v1/applications/acme/web/api/observability?range=1h", undefined, { key });
    }
    expect(byId.status).toBe(200); // not swallowed by GET /applications/{org}/{project}
    expect(referenceProblems("ObservabilityResponse", byId.body)).toEqual([]);
    expect(byPath.status).toBe(200);
    expect(byPath.body.history).toEqual(byId.body.history);
    const point = byId.body.history.filter((p: any) => p.cpu_usage_m !== null).at(-1);
    expect(point.pod_count).toBe(3);
    expect(point.memory_usage_bytes).toBeGreaterThanOrEqual(64 * MiB);
    expect(point.cpu_usage_m).toBeGreaterThan(50);
    expect(byId.body.replicas.map((r: any) => [r.process, r.replica, r.state])).toEqual([
      ["web", 1, "running"],
      ["worker", 1, "running"],
      ["worker", 2, "running"],
    ]);
  });

  test("a stopped replica is sampled as not running (no inspect until its generation or a minute changes)", async () => {
    await docker.getContainer(ids.idle).kill();
    const latest = await sampler.sampleOnce();
    expect(latest.find((l) => l.containerId === ids.idle)).toMatchObject({ running: false, memoryBytes: null });
    const r = await t.req("GET", `/api/v1/orgs/acme/projects/web/observability/?service=api&env=production&range=6h`, undefined, { key });
    expect(r.status).toBe(200);
    expect(r.body.history.length).toBe(120);
    expect(r.body.replicas.find((x: any) => x.replica === 2 && x.process === "worker").running).toBe(false);
  });

  test("unknown ids and foreign organizations are 404; a project named like the route still lists", async () => {
    expect((await t.req("GET", `/api/v1/applications/0190aaaa-0000-7000-8000-000000000000/observability`, undefined, { key })).status).toBe(404);
    const other = (await t.user("stranger")).key;
    expect((await t.req("GET", `/api/v1/applications/${serviceId}/observability`, undefined, { key: other })).status).toBe(404);
    expect((await t.req("GET", `/api/v1/applications/${serviceId}/observability`)).status).toBe(401);
    expect((await t.req("GET", `/api/v1/applications/${serviceId}/observability?range=2y`, undefined, { key })).status).toBe(422);
    expect((await t.req("POST", "/api/v1/orgs/acme/projects", { name: "observability" }, { key })).status).toBe(201);
    const listed = await t.req("GET", "/api/v1/applications/acme/observability", undefined, { key });
    expect([listed.status, listed.body]).toEqual([200, []]);
  });
});
