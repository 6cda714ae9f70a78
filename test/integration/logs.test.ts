// Runtime logs on the real Docker engine over real HTTP on 127.0.0.1: every line prefixed with
// process.replica, stdout and stderr both, secrets redacted, follow streams new lines until the
// client disconnects; access rules and bad input.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import type { Server } from "bun";
import { deployHarness, fixtureFiles, type DeployHarness } from "../fixtures/webapp/support";
import { createApp } from "../../src/app";

// Docker builds and rollouts outlast bun's 5 s default; plain `bun test` (README, CI) passes no --timeout
setDefaultTimeout(300_000);

let h: DeployHarness;
let server: Server<unknown>;
const SECRET = "log-secret-" + crypto.randomUUID();
const PROCFILE = [
  `web: exec httpd -f -v -p "$PORT" -h /www`,
  `worker: exec sh -c 'echo "worker up token=$API_TOKEN"; echo "to stderr" >&2; i=0; while true; do i=$((i+1)); echo "tick $i"; sleep 1; done'`,
].join("\n");

const logsUrl = (q = "") => `${server.url.origin}/api/v1/orgs/${h.org}/projects/web/envs/production/services/app/logs${q}`;

beforeAll(async () => {
  h = await deployHarness("log");
  await h.service("app", { process_counts: { web: 1, worker: 1 }, deployment_timeout: 30 });
  await h.setVar("app", "API_TOKEN", SECRET, true);
  await h.build("app", fixtureFiles({ Procfile: PROCFILE }));
  const rel = await h.release((await h.t.req("GET", `${h.base()}/app`, undefined, { key: h.key })).body.id);
  expect((await h.deploy(rel.release_id)).status).toBe("complete");
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => createApp(h.t.deps).handle(req) });
  expect((await h.get(h.host("app"), "/index.html")).status).toBe(200); // a request httpd -v logs on stderr
  await Bun.sleep(1500);
});
afterAll(async () => {
  server?.stop(true);
  await h?.close();
});

describe("service logs", () => {
  test("tail: lines of every replica prefixed with process.replica, stdout and stderr, the secret redacted", async () => {
    const res = await fetch(logsUrl("?tail=50"), { headers: { "x-api-key": h.key } });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toContain("text/plain");
    const text = await res.text();
    expect(text).toContain("worker.1 | worker up token=[redacted]");
    expect(text).toContain("worker.1 | to stderr");
    expect(text).toMatch(/^worker\.1 \| tick \d+$/m);
    expect(text).toMatch(/^web\.1 \| .*response:200$/m); // httpd -v writes its access log to stderr
    expect(text).not.toContain(SECRET);
    for (const line of text.trimEnd().split("\n")) expect(line).toMatch(/^(web|worker)\.1 \| /);
  });

  test("tail=1 keeps only the last line of each replica", async () => {
    const text = await (await fetch(logsUrl("?tail=1"), { headers: { "x-api-key": h.key } })).text();
    const lines = text.trimEnd().split("\n");
    expect(lines.length).toBe(2);
    expect(lines.filter((l) => l.startsWith("worker.1 | tick")).length).toBe(1);
  });

  test("follow: new lines arrive while the response stays open; the stream ends when the client disconnects", async () => {
    const controller = new AbortController();
    const res = await fetch(logsUrl("?tail=0&follow=true"), { headers: { "x-api-key": h.key }, signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const deadline = Date.now() + 60_000;
    const ticks = () => [...text.matchAll(/^worker\.1 \| tick (\d+)$/gm)].map((m) => Number(m[1]));
    while (ticks().length < 2 && Date.now() < deadline) {
      const { value, done } = await reader.read();
      if (done) break;
      text += decoder.decode(value, { stream: true });
    }
    const seen = ticks();
    expect(seen.length).toBeGreaterThanOrEqual(2); // at least two ticks one second apart: it streams
    expect(seen[1]).toBe(seen[0]! + 1);
    expect(text).not.toContain(SECRET);
    controller.abort();
    await reader.read().catch(() => ({ done: true }));
    // the server is still fine afterwards
    expect((await fetch(logsUrl("?tail=1"), { headers: { "x-api-key": h.key } })).status).toBe(200);
  });

  test("follow picks up replicas started after it began (a redeploy): their output arrives in the same stream", async () => {
    const controller = new AbortController();
    const res = await fetch(logsUrl("?tail=0&follow=1"), { headers: { "x-api-key": h.key }, signal: controller.signal });
    expect(res.status).toBe(200);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let text = "";
    const reading = (async () => {
      for (;;) {
        const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true }));
        if (done) return;
        text += decoder.decode(value, { stream: true });
      }
    })();
    const rel = (await h.t.req("GET", `${h.base()}/app/releases`, undefined, { key: h.key })).body[0];
    expect((await h.deploy(rel.id)).status).toBe("complete"); // new web and worker containers
    const deadline = Date.now() + 60_000;
    while (!text.includes("worker.1 | worker up token=[redacted]") && Date.now() < deadline) await Bun.sleep(200);
    controller.abort();
    await reading;
    expect(text).toContain("worker.1 | worker up token=[redacted]"); // printed by the new worker only (tail=0)
    expect(text).not.toContain(SECRET);
  });

  test("access and bad input: 401 without a key, 404 for a stranger, 422 for a bad tail or follow", async () => {
    expect((await fetch(logsUrl())).status).toBe(401);
    const stranger = await h.t.user("logstranger");
    expect((await fetch(logsUrl(), { headers: { "x-api-key": stranger.key } })).status).toBe(404);
    expect((await fetch(logsUrl("?tail=-1"), { headers: { "x-api-key": h.key } })).status).toBe(422);
    expect((await fetch(logsUrl("?tail=abc"), { headers: { "x-api-key": h.key } })).status).toBe(422);
    expect((await fetch(logsUrl("?follow=maybe"), { headers: { "x-api-key": h.key } })).status).toBe(422);
  });
});
