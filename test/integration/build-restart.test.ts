// A server restart in the middle of a build: the build ends `error` ("interrupted by server
// restart") on the next start and what it left behind in Docker is removed.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startLiveServer, type LiveServer } from "../support/server";
import { contextTar, ensureBaseImage, removeLabelled, RUN_ID, TEST_RUN_LABEL, testDocker } from "../support/docker";
import { testApp } from "../support/app";
import { startWorker } from "../../src/jobs/worker";
import { getJob, INTERRUPTED, markJob } from "../../src/jobs/queue";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(300_000);

const ORG = `r${RUN_ID}`;
const dataDir = mkdtempSync(join(tmpdir(), "ancla-restart-"));
const servers: LiveServer[] = [];

const containerExists = (id: string) => testDocker().getContainer(id).inspect().then(() => true, () => false);

async function until<T>(what: string, fn: () => Promise<T | null | undefined | false>, ms = 60_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(100);
  }
}

beforeAll(async () => {
  await ensureBaseImage();
});

afterAll(async () => {
  for (const s of servers) await s.stop({ keep: true }).catch(() => {});
  await removeLabelled(`dev.ancla.org=${ORG}`);
  await removeLabelled(`${TEST_RUN_LABEL}=${RUN_ID}`);
  rmSync(dataDir, { recursive: true, force: true });
});

describe("restart during a build", () => {
  test("SIGKILL of `ancla serve` mid-build → next start finishes the build as error and removes its container", async () => {
    const first = await startLiveServer({ dataDir });
    servers.push(first);
    const key = first.adminKey;
    const api = (method: string, path: string, body?: BodyInit, type = "application/json") =>
      fetch(first.url + path, { method, body, headers: { "x-api-key": key, "content-type": type } });
    expect((await api("POST", "/api/v1/organizations", JSON.stringify({ name: "Restart", slug: ORG }))).status).toBe(201);
    expect((await api("POST", `/api/v1/orgs/${ORG}/projects`, JSON.stringify({ name: "Web", slug: "web" }))).status).toBe(201);
    const svc = `/api/v1/orgs/${ORG}/projects/web/envs/production/services`;
    expect((await api("POST", svc, JSON.stringify({ name: "slow" }))).status).toBe(201);
    const ctx = await contextTar({ Dockerfile: "FROM ancla-test/busybox\nRUN echo started-long-step && sleep 60\n" });
    const started = await api("POST", `${svc}/slow/images/build`, ctx as unknown as BodyInit, "application/x-tar");
    expect(started.status).toBe(201);
    const { image_id } = (await started.json()) as { image_id: string };
    const log = await until("the long step to start", async () => {
      const r = (await (await api("GET", `/api/v1/images/${image_id}/log`)).json()) as { log_text: string | null; status: string };
      return /^started-long-step$/m.test(r.log_text ?? "") ? r : null; // the output line, not the Step line
    });
    expect(log.status).toBe("running");
    const container = /Running in ([0-9a-f]{12})/.exec(log.log_text!)![1]!;

    await first.stop({ signal: "SIGKILL", keep: true }); // a crash: nothing gets to clean up

    const second = await startLiveServer({ dataDir, createKey: false });
    servers.push(second);
    const detail = (await (await fetch(`${second.url}/api/v1/images/${image_id}/detail`, { headers: { "x-api-key": key } })).json()) as Record<string, unknown>;
    expect(detail).toMatchObject({ built: false, error: true, error_detail: INTERRUPTED });
    const after = (await (await fetch(`${second.url}/api/v1/images/${image_id}/log`, { headers: { "x-api-key": key } })).json()) as { log_text: string; status: string };
    expect(after.status).toBe("error");
    expect(after.log_text).toContain(`build ${INTERRUPTED}`);
    expect(await containerExists(container)).toBe(false);
    expect(await testDocker().getImage(`ancla/${ORG}/web/production/slow:v1`).inspect().then(() => true, () => false)).toBe(false);

    // the queue works again after recovery: a new build of the same service completes
    const quick = await fetch(`${second.url}${svc}/slow/images/build`, {
      method: "POST",
      body: (await contextTar({ Dockerfile: "FROM ancla-test/busybox\n" })) as unknown as BodyInit,
      headers: { "x-api-key": key, "content-type": "application/x-tar" },
    });
    const { image_id: next, version } = (await quick.json()) as { image_id: string; version: number };
    expect(version).toBe(2);
    await until("the next build", async () => {
      const d = (await (await fetch(`${second.url}/api/v1/images/${next}/detail`, { headers: { "x-api-key": key } })).json()) as { built: boolean };
      return d.built;
    });
    await second.stop({ keep: true });
  });

  test("recovery removes every container the interrupted build recorded, even ones the daemon kept", async () => {
    const t = await testApp();
    try {
      const key = (await t.user("u")).key;
      await t.req("POST", "/api/v1/organizations", { name: "R2", slug: `${ORG}x` }, { key });
      await t.req("POST", `/api/v1/orgs/${ORG}x/projects`, { name: "W", slug: "w" }, { key });
      const svc = `/api/v1/orgs/${ORG}x/projects/w/envs/production/services`;
      expect((await t.req("POST", svc, { name: "s" }, { key })).status).toBe(201);
      // queued build whose job we mark `running` with a recorded leftover container, as a crashed run would leave it
      const r = await t.req("POST", `${svc}/s/images/build`, undefined, { key, raw: (await contextTar({ Dockerfile: "FROM ancla-test/busybox\n" })) as unknown as BodyInit, headers: { "content-type": "application/x-tar" } });
      expect(r.status).toBe(201);
      const leftover = await testDocker().createContainer({ Image: "ancla-test/busybox", Cmd: ["sleep", "300"], Labels: { [TEST_RUN_LABEL]: RUN_ID } });
      await leftover.start();
      markJob(t.deps, r.body.job_id, { status: "running", result: { containers: [leftover.id] } });
      const worker = await startWorker(t.deps);
      await worker.stop();
      expect(getJob(t.deps, r.body.job_id)).toMatchObject({ status: "error", error: INTERRUPTED });
      expect((await t.req("GET", `/api/v1/images/${r.body.image_id}/detail`, undefined, { key })).body).toMatchObject({ error: true, error_detail: INTERRUPTED });
      expect(await containerExists(leftover.id)).toBe(false);
    } finally {
      t.close();
    }
  });
});
