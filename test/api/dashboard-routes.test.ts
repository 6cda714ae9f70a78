// Routes the dashboard needs: a service's activity (builds and deployments with who, kind,
// duration, log path, the live release) and changing your own password.
import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { testApp, type TestApp } from "../support/app";
import { insertImage } from "../../src/modules/images/repo";
import { insertRelease } from "../../src/modules/releases/repo";
import { insertDeployment } from "../../src/modules/deployments/repo";
import { newId } from "../../src/lib/ids";

setDefaultTimeout(180_000);

let t: TestApp;
beforeEach(async () => {
  t = await testApp();
});
afterEach(() => t.close());

const SVC = "/api/v1/orgs/acme/projects/web/envs/production/services/api";

/** A service with two images and releases, and deployments: v1, v2, rollback to v1, scale, redeploy v2 (failed). */
async function history(key: string, userId: string) {
  await t.req("POST", "/api/v1/organizations", { name: "acme", slug: "acme" }, { key });
  await t.req("POST", "/api/v1/orgs/acme/projects", { name: "web", slug: "web" }, { key });
  const svc = (await t.req("POST", "/api/v1/orgs/acme/projects/web/envs/production/services", { name: "api" }, { key })).body;
  const at = (s: number) => new Date(Date.UTC(2030, 0, 1, 0, 0, s)).toISOString();
  const releases: string[] = [];
  for (const v of [1, 2]) {
    const image = insertImage(t.deps.db, {
      id: newId(), serviceId: svc.id, version: v, status: "complete", source: "upload", repositoryName: "ancla/x", tag: `v${v}`,
      createdAt: at(v * 10), updatedAt: at(v * 10), startedAt: at(v * 10), finishedAt: at(v * 10 + 4),
    });
    releases.push(insertRelease(t.deps.db, {
      id: newId(), serviceId: svc.id, version: v, status: "complete", imageId: image.id, imageVersion: v, imageRef: "sha256:x", repositoryName: "ancla/x", tag: `v${v}`,
      processes: { web: null }, config: [], port: 8000, healthCheckPath: "/_health/", imageChanges: {}, configurationChanges: {}, createdAt: at(v * 10 + 5), updatedAt: at(v * 10 + 5),
    }).id);
  }
  const deploy = (version: number, release: number, kind: "deploy" | "scale", status: "complete" | "error", s: number) =>
    insertDeployment(t.deps.db, {
      id: newId(), serviceId: svc.id, releaseId: releases[release - 1]!, version, kind, status, metadata: {}, createdById: userId,
      createdAt: at(s), updatedAt: at(s + 3), startedAt: at(s), finishedAt: at(s + 3), errorDetail: status === "error" ? "health check timed out" : null,
    });
  deploy(1, 1, "deploy", "complete", 16);
  deploy(2, 2, "deploy", "complete", 26);
  deploy(3, 1, "deploy", "complete", 40);
  deploy(4, 1, "scale", "complete", 45);
  deploy(5, 2, "deploy", "error", 50);
  return svc;
}

describe("service activity", () => {
  test("every build and deployment, newest first, with kind, who, duration and its log; the live release marked", async () => {
    const alice = await t.user("alice");
    await history(alice.key, alice.id);
    const r = await t.req("GET", `${SVC}/activity`, undefined, { key: alice.key });
    expect(r.status).toBe(200);
    expect(r.body.live_release_version).toBe(1);
    const kinds = r.body.items.map((i: any) => [i.kind, i.kind === "build" ? i.image_version : i.release_version, i.status]);
    expect(kinds).toEqual([
      ["redeploy", 2, "error"],
      ["scale", 1, "complete"],
      ["rollback", 1, "complete"],
      ["deploy", 2, "complete"],
      ["build", 2, "complete"],
      ["deploy", 1, "complete"],
      ["build", 1, "complete"],
    ]);
    const rollback = r.body.items[2];
    // the live marker is on the rollback that put v1 back, not on the scale after it
    expect(r.body.live_deployment_id).toBe(rollback.id);
    expect(rollback).toMatchObject({ by: "alice", duration_seconds: 3, error_detail: null });
    expect(r.body.items[0].error_detail).toBe("health check timed out");
    expect(r.body.items.at(-1)).toMatchObject({ duration_seconds: 4, log_path: `${SVC}/images/1/log` });
    // each log path answers
    for (const item of r.body.items) expect((await t.req("GET", item.log_path, undefined, { key: alice.key })).status).toBe(200);
    expect((await t.req("GET", `${SVC}/activity?limit=2`, undefined, { key: alice.key })).body.items.length).toBe(2);
  });

  test("404 outside your organizations, 401 without credentials, 422 for a bad limit", async () => {
    const alice = await t.user("alice");
    await history(alice.key, alice.id);
    const bob = await t.user("bob");
    expect((await t.req("GET", `${SVC}/activity`, undefined, { key: bob.key })).status).toBe(404);
    expect((await t.req("GET", `${SVC}/activity`)).status).toBe(401);
    expect((await t.req("GET", `${SVC}/activity?limit=0`, undefined, { key: alice.key })).status).toBe(422);
  });
});

describe("change own password", () => {
  const login = (password: string) => t.req("POST", "/api/v1/auth/login", { email: "alice", password });
  const cookieOf = (r: { headers: Headers }) => r.headers.get("set-cookie")!.split(";")[0]!;

  test("needs the current password; ends the other sessions, keeps this one; the new password signs in", async () => {
    await t.user("alice");
    const mine = cookieOf(await login("password-alice"));
    const other = cookieOf(await login("password-alice"));
    const wrong = await t.req("POST", "/api/v1/auth/password", { current_password: "nope", new_password: "a-new-password" }, { cookie: mine });
    expect(wrong.status).toBe(422);
    expect(wrong.body.errors[0].path).toBe("current_password");
    const short = await t.req("POST", "/api/v1/auth/password", { current_password: "password-alice", new_password: "short" }, { cookie: mine });
    expect(short.status).toBe(422);
    expect(short.body.errors[0].path).toBe("new_password");
    const ok = await t.req("POST", "/api/v1/auth/password", { current_password: "password-alice", new_password: "a-new-password" }, { cookie: mine });
    expect(ok.status).toBe(200);
    expect(ok.body).toEqual({ ok: true });
    expect((await t.req("GET", "/api/v1/auth/session", undefined, { cookie: mine })).body.authenticated).toBe(true);
    expect((await t.req("GET", "/api/v1/auth/session", undefined, { cookie: other })).body.authenticated).toBe(false);
    expect((await login("password-alice")).status).toBe(401);
    expect((await login("a-new-password")).status).toBe(201);
  });

  test("401 without credentials", async () => {
    expect((await t.req("POST", "/api/v1/auth/password", { current_password: "x", new_password: "long-enough" })).status).toBe(401);
  });
});
