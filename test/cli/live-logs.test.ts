// Live logs over Server-Sent Events from a live `ancla serve` and the real Docker engine: a line a
// replica writes is delivered on the open stream (container output), and SIGTERM to the server
// ends every open stream with an `end` event ("server stopping") before it exits 0.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { ancla, anclaCommand, cleanEnv, startLiveServer, type LiveServer } from "../support/server";
import { ensureBaseImage, removeOrgResources, RUN_ID, RUN_LABELS_ENV, testDocker } from "../support/docker";
import { openSse } from "../support/sse";

setDefaultTimeout(300_000);

let s: LiveServer;
let dir: string;
const ORG = `sse${RUN_ID}`.toLowerCase();
const TARGET = `${ORG}/web/production/app`;
const SECRET = "sse-secret-" + crypto.randomUUID();
const FIXTURE = resolve(import.meta.dir, "../fixtures/webapp");
const logsUrl = (svc = "app") => `${s.url}/api/v1/orgs/${ORG}/projects/web/envs/production/services/${svc}/logs?tail=5`;

const api = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(s.url + path, { method, headers: { "x-api-key": s.adminKey, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  expect(r.status).toBeLessThan(300);
  return r.json() as Promise<any>;
};

beforeAll(async () => {
  await ensureBaseImage();
  s = await startLiveServer({ env: RUN_LABELS_ENV });
  await api("POST", "/api/v1/organizations", { name: ORG, slug: ORG });
  await api("POST", `/api/v1/orgs/${ORG}/projects`, { name: "Web", slug: "web" });
  await api("POST", `/api/v1/orgs/${ORG}/projects/web/envs/production/services`, { name: "app", process_counts: { web: 1, worker: 1 }, deployment_timeout: 60 });
  await api("POST", `/api/v1/orgs/${ORG}/projects/web/envs/production/services`, { name: "idle" });
  await api("POST", `/api/v1/orgs/${ORG}/projects/web/envs/production/services/app/config`, { name: "API_TOKEN", value: SECRET, secret: true });
  dir = mkdtempSync(join(tmpdir(), "ancla-sse-fixture-"));
  cpSync(FIXTURE, dir, { recursive: true, filter: (src) => !src.endsWith("support.ts") });
  // the worker prints once and then stays quiet: every later line is one the test wrote
  writeFileSync(join(dir, "Procfile"), `web: exec httpd -f -p "$PORT" -h /www\nworker: exec sh -c 'echo "worker up"; exec sleep 3600'\n`);
  const deployed = await ancla(["deploy", "--target", TARGET], { home: s.home, cwd: dir, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey } });
  if (deployed.code !== 0) throw new Error(`deploy failed: ${deployed.stderr}`);
});
afterAll(async () => {
  if (s && s.proc.exitCode === null) await s.stop();
  await removeOrgResources(ORG);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("container output as Server-Sent Events", () => {
  test("a line the worker writes is delivered on the open stream, prefixed and redacted", async () => {
    const events = await openSse(logsUrl(), { "x-api-key": s.adminKey });
    expect(events.status).toBe(200);
    expect(events.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    await events.next((e) => e.data === "worker.1 | worker up"); // the tail
    const [worker] = await testDocker().listContainers({ filters: { label: [`dev.ancla.org=${ORG}`, "dev.ancla.process=worker"] } });
    expect(worker).toBeDefined();
    const marker = `marker-${crypto.randomUUID()}`;
    // written to the worker's stdout from outside while the client waits on the stream
    const exec = await testDocker().getContainer(worker!.Id).exec({ Cmd: ["sh", "-c", `echo "${marker} token=${SECRET}" > /proc/1/fd/1`] });
    await exec.start({ hijack: true, stdin: false });
    const got = await events.next((e) => e.data.includes(marker));
    expect(got.data).toBe(`worker.1 | ${marker} token=[redacted]`);
    events.close();
  });

  test("the CLI follows over SSE: `images log -f` and `deployments log -f` print a finished run's log and exit 0", async () => {
    const env = { ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey };
    const image = await api("GET", `/api/v1/orgs/${ORG}/projects/web/envs/production/services/app/images/1`);
    const build = await ancla(["images", "log", image.id, "-f"], { home: s.home, env });
    expect(build.code).toBe(0);
    const json = await api("GET", `/api/v1/images/${image.id}/log`);
    expect(build.stdout).toBe(json.log_text);
    const [deployment] = await api("GET", `/api/v1/orgs/${ORG}/projects/web/envs/production/deployments`);
    const deploy = await ancla(["deployments", "log", deployment.id, "--follow"], { home: s.home, env });
    expect(deploy.code).toBe(0);
    expect(deploy.stdout.trimEnd()).toBe((await api("GET", `/api/v1/deployments/${deployment.id}/log`)).log_text.trimEnd());
    expect(deploy.stdout).toContain("worker");
  });

  test("SIGTERM: open streams (a service with replicas, one waiting for any, `ancla logs -f`) get `end` {reason: server stopping}; the server exits 0, the CLI 7 saying why", async () => {
    const cli = Bun.spawn([...anclaCommand(), "logs", "-f", TARGET], { env: { ...cleanEnv(), HOME: s.home, ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey }, stdout: "pipe", stderr: "pipe" });
    // keep reading the CLI's stdout to the end: leaving the loop would close the pipe, and a line
    // that arrives after "worker up" (a slow machine) would then fail the CLI's write instead
    let cliText = "";
    let sawUp!: () => void;
    const up = new Promise<void>((r) => (sawUp = r));
    const drained = (async () => {
      for await (const chunk of cli.stdout as unknown as AsyncIterable<Uint8Array>) {
        cliText += new TextDecoder().decode(chunk);
        if (cliText.includes("worker.1 | worker up")) sawUp();
      }
    })();
    await Promise.race([up, drained]);
    expect(cliText).toContain("worker.1 | worker up");
    const busy = await openSse(logsUrl(), { "x-api-key": s.adminKey });
    const waiting = await openSse(logsUrl("idle"), { "x-api-key": s.adminKey });
    await busy.next((e) => e.data === "worker.1 | worker up");
    await waiting.next((e) => e.data === "(no running replicas yet; waiting for some to start)");
    const exited = s.stop({ keep: true });
    for (const stream of [busy, waiting]) {
      const end = await stream.next((e) => e.event === "end");
      expect(JSON.parse(end.data)).toEqual({ reason: "server stopping" });
      await stream.done;
    }
    expect(await exited).toBe(0);
    expect(await cli.exited).toBe(7);
    expect(await new Response(cli.stderr).text()).toContain("the server ended the stream: server stopping");
  });
});
