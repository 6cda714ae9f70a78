// A release whose image retention removed is refused up front with 409 ("image v1 was removed by
// retention") on every route that deploys a given release — redeploy by id, by version, pipeline
// rollback, promotion — and nothing is written; releases whose image is kept still deploy.
// In process, no Docker: rows are written as the build worker and retention would leave them.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { snapshotDb, testApp, type TestApp } from "../support/app";
import { insertImage } from "../../src/modules/images/repo";
import { insertRelease } from "../../src/modules/releases/repo";
import { insertDeployment } from "../../src/modules/deployments/repo";
import { newId } from "../../src/lib/ids";

setDefaultTimeout(180_000);

let t: TestApp;
let key: string;
const P = "/api/v1/orgs/acme/projects/web";
const releases: Record<string, { id: string }> = {};

/** Image vN of a service (pruned or not) with release vN of it; deployed = a complete deployment. */
function builtRelease(serviceId: string, env: string, version: number, opts: { pruned: boolean; deployed: boolean }) {
  const now = new Date(Date.UTC(2026, 0, 1, 0, version)).toISOString();
  const repositoryName = `ancla/acme-web-${env}-api`;
  const image = insertImage(t.deps.db, {
    id: newId(), serviceId, version, status: "complete", source: "image", repositoryName, tag: `v${version}`,
    dockerImageId: "sha256:" + String(version).repeat(64).slice(0, 64), processes: { web: null }, pruned: opts.pruned, createdAt: now, updatedAt: now,
  });
  const release = insertRelease(t.deps.db, {
    id: newId(), serviceId, version, status: "complete", imageId: image.id, imageVersion: version, imageRef: image.dockerImageId!,
    repositoryName, tag: image.tag, processes: { web: null }, config: [], port: 8000, healthCheckPath: "/_health/",
    imageChanges: {}, configurationChanges: {}, createdAt: now, updatedAt: now,
  });
  if (opts.deployed) {
    insertDeployment(t.deps.db, { id: newId(), serviceId, releaseId: release.id, version, status: "complete", metadata: {}, createdAt: now, updatedAt: now, finishedAt: now });
  }
  releases[`${env}-v${version}`] = release;
}

beforeAll(async () => {
  t = await testApp();
  key = (await t.user("owner")).key;
  const ok = async (method: string, path: string, body: unknown) => {
    const r = await t.req(method, path, body, { key });
    expect([path, r.status < 300]).toEqual([path, true]);
    return r.body;
  };
  await ok("POST", "/api/v1/organizations", { name: "acme", slug: "acme" });
  await ok("POST", "/api/v1/orgs/acme/projects", { name: "Web", slug: "web" });
  await ok("POST", `${P}/envs`, { name: "Staging", slug: "staging", env_type: "staging" });
  await ok("POST", `${P}/envs`, { name: "QA", slug: "qa", env_type: "staging" });
  const prod = await ok("POST", `${P}/envs/production/services`, { name: "api" });
  const staging = await ok("POST", `${P}/envs/staging/services`, { name: "api" });
  // production: v1 ran, was pruned by retention; v2 never deployed (kept); v3 serves now
  builtRelease(prod.id, "production", 1, { pruned: true, deployed: true });
  builtRelease(prod.id, "production", 2, { pruned: false, deployed: false });
  builtRelease(prod.id, "production", 3, { pruned: false, deployed: true });
  // staging: its latest successful release runs an image retention has since removed
  builtRelease(staging.id, "staging", 1, { pruned: true, deployed: true });
});
afterAll(() => t?.close());

const refused = (r: { status: number; body: any }, image = 1) => {
  expect(r.status).toBe(409);
  expect(r.body).toEqual({ status: 409, message: expect.stringContaining(`image v${image} was removed by retention`) });
};

describe("deploying a release whose image was pruned", () => {
  test("POST /releases/{id}/deploy (reference family) → 409, nothing queued", async () => {
    const before = snapshotDb(t.deps);
    refused(await t.req("POST", `/api/v1/releases/${releases["production-v1"]!.id}/deploy`, undefined, { key }));
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test('POST …/services/{svc}/deploy {"version": 1} → 409, nothing queued', async () => {
    const before = snapshotDb(t.deps);
    refused(await t.req("POST", `${P}/envs/production/services/api/deploy`, { version: 1 }, { key }));
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("POST …/pipeline/rollback to the previous successful release (v1, pruned) → 409, nothing queued", async () => {
    const before = snapshotDb(t.deps);
    refused(await t.req("POST", `${P}/pipeline/rollback?service=api&env=production`, undefined, { key }));
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("promoting a release whose image was pruned → 409; no target release, service or promotion is written", async () => {
    const before = snapshotDb(t.deps);
    // into an environment that has the service, and into one where promotion would create it
    for (const target of ["production", "qa"]) {
      refused(await t.req("POST", `${P}/promote`, { service: "api", source_env: "staging", target_env: target }, { key }));
    }
    expect(snapshotDb(t.deps)).toBe(before);
    expect((await t.req("GET", `${P}/envs/qa/services/api`, undefined, { key })).status).toBe(404);
  });

  test("releases whose image is kept still deploy by id and by version", async () => {
    const byId = await t.req("POST", `/api/v1/releases/${releases["production-v2"]!.id}/deploy`, undefined, { key });
    expect(byId.status).toBe(201);
    const byVersion = await t.req("POST", `${P}/envs/production/services/api/deploy`, { version: 3 }, { key });
    expect(byVersion.status).toBe(201);
    const latest = await t.req("POST", `${P}/envs/production/services/api/deploy`, {}, { key });
    expect(latest.status).toBe(201);
  });
});
