// Build and deploy logs as Server-Sent Events over real HTTP (the app on Bun.serve, a fresh
// database): stored lines first, a line appended by the build or deploy code path is delivered
// while the stream stays open, Last-Event-ID resumes, the run's end closes the stream with its
// outcome, the server's shutdown closes it with "server stopping"; access rules as for the JSON log.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Server } from "bun";
import { createApp } from "../../src/app";
import { testApp, type TestApp } from "../support/app";
import { openSse } from "../support/sse";
import { newId } from "../../src/lib/ids";
import { insertImage, appendLog as appendBuildLog, updateImage } from "../../src/modules/images/repo";
import { insertRelease } from "../../src/modules/releases/repo";
import { insertDeployment, appendLog as appendDeployLog, updateDeployment } from "../../src/modules/deployments/repo";

setDefaultTimeout(180_000);

let t: TestApp;
let server: Server<unknown>;
let key: string;
let stranger: string;
let imageId: string;
let releaseId: string;
let serviceId: string;

const url = (path: string) => `${server.url.origin}${path}`;
const now = () => new Date().toISOString();

let version = 0;
function runningDeployment(): string {
  const id = newId();
  insertDeployment(t.deps.db, { id, serviceId, releaseId, version: ++version, status: "running", metadata: { target: "docker", replicas: [] }, createdAt: now(), updatedAt: now() });
  return id;
}

beforeAll(async () => {
  t = await testApp();
  key = (await t.user("owner")).key;
  stranger = (await t.user("stranger")).key;
  expect((await t.req("POST", "/api/v1/organizations", { name: "acme", slug: "acme" }, { key })).status).toBe(201);
  expect((await t.req("POST", "/api/v1/orgs/acme/projects", { name: "web", slug: "web" }, { key })).status).toBe(201);
  serviceId = (await t.req("POST", "/api/v1/orgs/acme/projects/web/envs/production/services", { name: "api" }, { key })).body.id;
  const repositoryName = "ancla/acme-web-production-api";
  imageId = insertImage(t.deps.db, { id: newId(), serviceId, version: 1, status: "running", source: "image", repositoryName, tag: "v1", createdAt: now(), updatedAt: now() }).id;
  releaseId = insertRelease(t.deps.db, {
    id: newId(), serviceId, version: 1, status: "complete", imageId, imageVersion: 1, imageRef: "sha256:" + "1".repeat(64),
    repositoryName, tag: "v1", processes: { web: null }, config: [], port: 8000, healthCheckPath: "/_health/",
    imageChanges: {}, configurationChanges: {}, createdAt: now(), updatedAt: now(),
  }).id;
  const app = createApp(t.deps);
  server = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: (req) => app.handle(req) });
});
afterAll(async () => {
  await server?.stop(true);
  t?.close();
});

describe("build log events", () => {
  test("stored lines, then a line appended while the stream is open, then `end` with the outcome; JSON stays the default", async () => {
    appendBuildLog(t.deps.db, imageId, "Step 1/2 : FROM busybox", now());
    const events = await openSse(url(`/api/v1/images/${imageId}/log`), { "x-api-key": key });
    expect(events.status).toBe(200);
    expect(events.headers.get("content-type")).toBe("text/event-stream; charset=utf-8");
    expect((await events.next((e) => e.data === "Step 1/2 : FROM busybox")).id).toMatch(/^\d+$/);
    // written by the build's own code path while the client waits: delivered on the open stream
    appendBuildLog(t.deps.db, imageId, "Step 2/2 : COPY . /www", now());
    await events.next((e) => e.data === "Step 2/2 : COPY . /www");
    updateImage(t.deps.db, imageId, { status: "complete", updatedAt: now() });
    const end = await events.next((e) => e.event === "end");
    expect(JSON.parse(end.data)).toMatchObject({ status: "complete", version: 1, error_detail: null });
    await events.done; // the server closed it
    expect(events.events.filter((e) => e.event === "message").map((e) => e.data)).toEqual(["Step 1/2 : FROM busybox", "Step 2/2 : COPY . /www"]);

    // Last-Event-ID resumes after the line it names; a finished build ends right after
    const firstId = events.events[0]!.id!;
    const resumed = await openSse(url(`/api/v1/images/${imageId}/log`), { "x-api-key": key, "last-event-id": firstId });
    await resumed.done;
    expect(resumed.events.map((e) => e.event === "end" ? "end" : e.data)).toEqual(["Step 2/2 : COPY . /www", "end"]);

    const json = await t.req("GET", `/api/v1/images/${imageId}/log`, undefined, { key });
    expect(json.body.log_text).toBe("Step 1/2 : FROM busybox\nStep 2/2 : COPY . /www\n");
  });

  test("the same for the hierarchical path; a stranger gets 404 and no stream", async () => {
    const ok = await openSse(url(`/api/v1/orgs/acme/projects/web/envs/production/services/api/images/1/log`), { "x-api-key": key });
    await ok.done;
    expect(ok.events.at(-1)!.event).toBe("end");
    const res = await fetch(url(`/api/v1/images/${imageId}/log`), { headers: { accept: "text/event-stream", "x-api-key": stranger } });
    expect(res.status).toBe(404);
    expect(res.headers.get("content-type")).toContain("application/json");
  });
});

describe("deploy log events", () => {
  test("lines written by the deploy arrive on the open stream; a multi-line entry stays one event per line; `end` carries the error", async () => {
    const id = runningDeployment();
    const events = await openSse(url(`/api/v1/deployments/${id}/log`), { "x-api-key": key });
    expect(events.status).toBe(200);
    appendDeployLog(t.deps.db, id, "Starting web.1", now());
    await events.next((e) => e.data === "Starting web.1");
    appendDeployLog(t.deps.db, id, "crashed:\nline two", now());
    await events.next((e) => e.data === "line two");
    updateDeployment(t.deps.db, id, { status: "error", errorDetail: "Health check timed out", updatedAt: now() });
    const end = await events.next((e) => e.event === "end");
    expect(JSON.parse(end.data)).toMatchObject({ status: "error", error_detail: "Health check timed out" });
    await events.done;
  });

  test("a follower of a running deploy is ended by the server's shutdown with an end event: server stopping", async () => {
    const id = runningDeployment();
    const events = await openSse(url(`/api/v1/orgs/acme/projects/web/envs/production/deployments/${id}/log`), { "x-api-key": key });
    expect(events.status).toBe(200);
    appendDeployLog(t.deps.db, id, "waiting for health", now());
    await events.next((e) => e.data === "waiting for health");
    t.deps.shutdown.abort(); // what SIGTERM does first in `ancla serve`
    const end = await events.next((e) => e.event === "end");
    expect(JSON.parse(end.data)).toEqual({ reason: "server stopping" });
    await events.done;
  });
});
