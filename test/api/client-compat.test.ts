// What the published `ancla` CLI and SDKs (github.com/SideQuest-Group/ancla-client, the
// /applications era) send and read, in process: every shape checked against the reference
// contract, and each request made the way the published client makes it.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { testApp, type TestApp } from "../support/app";
import { referenceProblems } from "../support/reference-schema";
import { insertImage } from "../../src/modules/images/repo";
import { insertRelease } from "../../src/modules/releases/repo";
import { insertDeployment } from "../../src/modules/deployments/repo";
import { newId } from "../../src/lib/ids";

setDefaultTimeout(180_000);

let t: TestApp;
let key: string;
let app: { id: string };
const A = "/api/v1/applications";
const P = "/api/v1/orgs/acme/projects/web";

beforeAll(async () => {
  t = await testApp();
  key = (await t.user("owner")).key;
  expect((await t.req("POST", "/api/v1/organizations", { name: "acme", slug: "acme" }, { key })).status).toBe(201);
  expect((await t.req("POST", "/api/v1/projects/acme", { name: "Web", slug: "web" }, { key })).status).toBe(201);
  app = (await t.req("POST", `${A}/acme/web`, { name: "api" }, { key })).body;
});
afterAll(() => t?.close());

/** A built image, its release and a finished deployment of it, as the pipeline leaves them. */
function seedDeployed(serviceId: string, version = 1) {
  const now = new Date().toISOString();
  const image = insertImage(t.deps.db, {
    id: newId(), serviceId, version, status: "complete", source: "image", repositoryName: "ancla/acme-web-production-api", tag: `v${version}`,
    processes: { web: null, worker: "bin/worker" }, createdAt: now, updatedAt: now, startedAt: now, finishedAt: now,
  });
  const release = insertRelease(t.deps.db, {
    id: newId(), serviceId, version, status: "complete", imageId: image.id, imageVersion: version, imageRef: "sha256:abc", repositoryName: "ancla/acme-web-production-api", tag: `v${version}`,
    processes: { web: null, worker: "bin/worker" }, config: [], port: 8000, healthCheckPath: "/_health/", imageChanges: {}, configurationChanges: {}, createdAt: now, updatedAt: now,
  });
  const deployment = insertDeployment(t.deps.db, {
    id: newId(), serviceId, releaseId: release.id, version, status: "complete", metadata: {}, createdAt: now, updatedAt: now, startedAt: now, finishedAt: now,
  });
  return { image, release, deployment };
}

describe("ancla logs (published CLI): pipeline-status stages carry their ids", () => {
  test("build, release and deploy each have the id of their image, release and deployment; deploy.id reads the log", async () => {
    const svc = (await t.req("POST", `${A}/acme/web`, { name: "logged" }, { key })).body;
    const { image, release, deployment } = seedDeployed(svc.id);
    // the published CLI: GET /applications/{org}/{project}/{app}/pipeline-status, then deploy.id's log
    const status = await t.req("GET", `${A}/acme/web/logged/pipeline-status`, undefined, { key });
    expect(status.status).toBe(200);
    expect(referenceProblems("PipelineStatusResponse", status.body)).toEqual([]);
    expect(status.body).toMatchObject({ build: { id: image.id, version: 1 }, release: { id: release.id, version: 1 }, deploy: { id: deployment.id, status: "complete", version: 1 } });
    expect((await t.req("GET", `${A}/${svc.id}/pipeline-status`, undefined, { key })).body).toEqual(status.body);
    expect((await t.req("GET", `${P}/pipeline/status?service=logged`, undefined, { key })).body).toEqual(status.body);
    const log = await t.req("GET", `/api/v1/deployments/${status.body.deploy.id}/log`, undefined, { key });
    expect(log.status).toBe(200);
    expect(log.body.status).toBe("complete");
  });
});

describe("API-like paths never answer the dashboard's index.html", () => {
  test("/admin/api/…, /api, /v1/…, /apis, /api-docs, /graphql, *.json: JSON 404; dashboard pages (also an org called api) stay HTML", async () => {
    for (const path of ["/admin/api/", "/admin/api/users", "/admin/api/v1/organizations", "/api", "/api/v2/things", "/v1/organizations", "/apis/x", "/api-docs", "/graphql", "/openapi.json", "/metrics/x"]) {
      const r = await t.req("GET", path, undefined, { key });
      expect({ path, status: r.status, type: r.headers.get("content-type") }).toEqual({ path, status: 404, type: expect.stringContaining("application/json") });
      expect(r.body).toEqual({ status: 404, message: "Route not found." });
    }
    for (const path of ["/admin/users", "/orgs/api", "/orgs/api/projects/v1", "/keys", "/"]) {
      const r = await t.req("GET", path);
      expect({ path, type: r.headers.get("content-type") }).toEqual({ path, type: expect.stringContaining("text/html") });
    }
  });
});

describe("config import (published CLI) and the documented bulk bodies", () => {
  test("POST /configurations/{app}/bulk with only raw (what the CLI sends): errors carry name and error; existing names are replaced, secrets skipped", async () => {
    const svc = (await t.req("POST", `${A}/acme/web`, { name: "configured" }, { key })).body;
    const C = `/api/v1/configurations/${svc.id}`;
    expect((await t.req("POST", C, { name: "EXISTING", value: "old" }, { key })).status).toBe(201);
    expect((await t.req("POST", C, { name: "TOKEN", value: "keep-me", secret: true }, { key })).status).toBe(201);
    const r = await t.req("POST", `${C}/bulk`, { raw: "EXISTING=new\nTOKEN=replaced\nFRESH=1\njust words\n1BAD=x" }, { key });
    expect(r.status).toBe(201);
    expect(referenceProblems("BulkConfigurationResponse", r.body)).toEqual([]);
    expect(r.body).toMatchObject({ created: ["FRESH"], updated: ["EXISTING"], skipped: ["TOKEN"] });
    // the published CLI prints `  <name>: <error>` per item: neither may be blank
    expect(r.body.errors).toEqual([
      { line: 4, name: "line 4", message: "expected KEY=value", error: "expected KEY=value" },
      { line: 5, name: "line 5", message: expect.stringContaining('invalid name "1BAD"'), error: expect.stringContaining('invalid name "1BAD"') },
    ]);
    const byName = Object.fromEntries((await t.req("GET", C, undefined, { key })).body.map((v: { name: string; value: string }) => [v.name, v.value]));
    expect(byName).toEqual({ EXISTING: "new", FRESH: "1", TOKEN: "**secret**" });
    // overwrite decides when given: false skips every existing name, true replaces the secret too
    expect((await t.req("POST", `${C}/bulk`, { raw: "EXISTING=newer\nTOKEN=x", overwrite: false }, { key })).body).toMatchObject({ updated: [], skipped: ["EXISTING", "TOKEN"] });
    expect((await t.req("POST", `${C}/bulk`, { variables: { TOKEN: "rotated" }, overwrite: true }, { key })).body).toMatchObject({ updated: ["TOKEN"], skipped: [] });
    // the path form is the same route
    expect((await t.req("POST", `/api/v1/configurations/acme/web/configured/bulk`, { variables: { FRESH: "2" } }, { key })).body).toMatchObject({ updated: ["FRESH"] });
    // the hierarchical routes keep SPEC §3.4: existing names are skipped unless overwrite: true
    const env = await t.req("POST", `${P}/envs/production/config/bulk`, { raw: "SHARED=1" }, { key });
    expect(env.body.created).toEqual(["SHARED"]);
    expect((await t.req("POST", `${P}/envs/production/config/bulk`, { raw: "SHARED=2" }, { key })).body).toMatchObject({ skipped: ["SHARED"], updated: [] });
  });

  test("environment config/bulk accepts the documented array body [{name, value[, secret]}] (a bulk set: existing names replaced)", async () => {
    const E = `${P}/envs/production/config`;
    await t.req("POST", E, { name: "REPLACED", value: "old" }, { key });
    const r = await t.req("POST", `${E}/bulk`, [{ name: "KEY_1", value: "val1" }, { name: "KEY_2", value: "val2", secret: true }, { name: "REPLACED", value: "new" }, { name: "bad-name", value: "x" }], { key });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({
      created: ["KEY_1", "KEY_2"],
      updated: ["REPLACED"],
      skipped: [],
      errors: [{ name: "bad-name", message: expect.stringContaining("not a valid name"), error: expect.stringContaining("not a valid name") }],
    });
    const listed = Object.fromEntries((await t.req("GET", E, undefined, { key })).body.map((v: { name: string; value: string; secret: boolean }) => [v.name, [v.value, v.secret]]));
    expect(listed).toMatchObject({ KEY_1: ["val1", false], KEY_2: ["**secret**", true], REPLACED: ["new", false] });
    expect((await t.req("POST", `${E}/bulk`, [{ name: "X" }], { key })).status).toBe(422);
    expect((await t.req("POST", `${E}/bulk`, [], { key })).body).toEqual({ created: [], updated: [], skipped: [], errors: [] });
  });
});

test("the generated OpenAPI document still builds and describes both bulk bodies", async () => {
  const doc = await t.req("GET", "/api/v1/openapi.json");
  expect(doc.status).toBe(200);
  const body = JSON.stringify(doc.body.paths["/api/v1/orgs/{org}/projects/{project}/envs/{env}/config/bulk"]);
  expect(body).toContain("variables");
  expect(body).toContain('"array"');
});

describe("PATCH /applications/{id}/settings stores every field the service has", () => {
  test("git_url, port, domains, image … are stored (id and path forms); unknown fields are a 422 naming them and change nothing", async () => {
    const svc = (await t.req("POST", `${A}/acme/web`, { name: "settled" }, { key })).body;
    const body = { git_url: "https://git.example.com/acme/api.git", build_ref: "main", dockerfile_path: "docker/Dockerfile", port: 5000, domains: ["api.example.com"], keep_images: 3, health_check_path: "/up", upstream_timeout: 30 };
    const r = await t.req("PATCH", `${A}/${svc.id}/settings`, body, { key });
    expect(r.status).toBe(200);
    expect(referenceProblems("ApplicationDetail", r.body)).toEqual([]);
    expect(r.body).toMatchObject(body);
    expect((await t.req("GET", `${A}/acme/web/settled`, undefined, { key })).body).toMatchObject(body);
    expect((await t.req("PATCH", `${A}/acme/web/settled/settings`, { image: "registry.example.com/api:1", git_url: null }, { key })).body).toMatchObject({ image: "registry.example.com/api:1", git_url: null });
    const before = (await t.req("GET", `${A}/${svc.id}`.replace(svc.id, "acme/web/settled"), undefined, { key })).body;
    for (const path of [`${A}/${svc.id}/settings`, `${A}/acme/web/settled/settings`, `${A}/acme/web/settled`, `${P}/envs/production/services/settled`]) {
      const bad = await t.req("PATCH", path, { git_urll: "https://typo.example.com/x.git", port: 6000 }, { key });
      expect({ path, status: bad.status }).toEqual({ path, status: 422 });
      expect(bad.body.message).toContain('"git_urll"');
    }
    expect((await t.req("GET", `${A}/acme/web/settled`, undefined, { key })).body).toEqual(before);
  });
});

describe("scale names only process types the release has", () => {
  test("an unknown type is a 422 naming it and stores nothing; the release's types, stored ones and (before any release) any type are accepted", async () => {
    const svc = (await t.req("POST", `${A}/acme/web`, { name: "scaled" }, { key })).body;
    // before the first release no Procfile is known: counts wait for the first deploy
    expect((await t.req("POST", `${A}/${svc.id}/scale`, { process_counts: { clock: 1 } }, { key })).status).toBe(201);
    seedDeployed(svc.id); // release v1: web and worker
    const before = (await t.req("GET", `${A}/acme/web/scaled`, undefined, { key })).body;
    for (const path of [`${A}/${svc.id}/scale`, `${A}/acme/web/scaled/scale`]) {
      const r = await t.req("POST", path, { process_counts: { web: 2, wroker: 1 } }, { key });
      expect(r.status).toBe(422);
      expect(r.body.message).toBe('process_counts.wroker: unknown process type "wroker": release v1 has clock, web, worker');
    }
    const pods = await t.req("POST", `${A}/${svc.id}/scale`, { process_pod_classes: { beat: "large" } }, { key });
    expect(pods.status).toBe(422);
    expect(pods.body.errors).toEqual([{ path: "process_pod_classes.beat", message: expect.stringContaining('unknown process type "beat"') }]);
    expect((await t.req("GET", `${A}/acme/web/scaled`, undefined, { key })).body).toEqual(before);
    const ok = await t.req("POST", `${A}/${svc.id}/scale`, { process_counts: { worker: 2, clock: 0 }, process_pod_classes: { worker: "large" } }, { key });
    expect(ok.status).toBe(201);
    expect(ok.body.process_counts).toMatchObject({ web: 1, worker: 2, clock: 0 });
    expect((await t.req("POST", `${P}/envs/production/services/scaled/scale`, { process_counts: { nope: 1 } }, { key })).status).toBe(404); // no such hierarchical route
  });
});

describe("services update (PATCH) of process_counts names only process types the release has, as scale does", () => {
  test("an unknown type is the same 422 on every PATCH route and stores nothing; the release's types are accepted; before a release any type is", async () => {
    const svc = (await t.req("POST", `${A}/acme/web`, { name: "patched" }, { key })).body;
    expect((await t.req("PATCH", `${A}/${svc.id}/settings`, { process_counts: { web: 1, clock: 1 } }, { key })).status).toBe(200);
    seedDeployed(svc.id); // release v1: web and worker
    const before = (await t.req("GET", `${A}/acme/web/patched`, undefined, { key })).body;
    for (const path of [`${A}/${svc.id}/settings`, `${A}/acme/web/patched/settings`, `${A}/acme/web/patched`, `${P}/envs/production/services/patched`]) {
      const r = await t.req("PATCH", path, { process_counts: { web: 2, wroker: 1 }, port: 5000 }, { key });
      expect({ path, status: r.status }).toEqual({ path, status: 422 });
      expect(r.body.message).toBe('process_counts.wroker: unknown process type "wroker": release v1 has clock, web, worker');
    }
    const pods = await t.req("PATCH", `${P}/envs/production/services/patched`, { process_pod_classes: { beat: "large" } }, { key });
    expect(pods.status).toBe(422);
    expect(pods.body.errors).toEqual([{ path: "process_pod_classes.beat", message: expect.stringContaining('unknown process type "beat"') }]);
    expect((await t.req("GET", `${A}/acme/web/patched`, undefined, { key })).body).toEqual(before);
    const ok = await t.req("PATCH", `${P}/envs/production/services/patched`, { process_counts: { web: 1, worker: 2 }, process_pod_classes: { worker: "large" } }, { key });
    expect(ok.status).toBe(200);
    expect(ok.body.process_counts).toEqual({ web: 1, worker: 2 });
  });
});

describe("id-form routes never fall into the {org}/{project} routes", () => {
  test("POST /{id}/exec (409: nothing runs yet), GET /{id}/database, /cache (501 saying so), id and path forms, 404 for an app you cannot see, 401 without a key", async () => {
    const cases: [string, string, unknown, number][] = [
      ["POST", "exec", { process: "web", command: "sh" }, 409],
      ["GET", "database", undefined, 501],
      ["GET", "cache", undefined, 501],
      ["POST", "cache/flush", undefined, 501],
    ];
    const stranger = (await t.user(`stranger-${Date.now()}`)).key;
    for (const [method, suffix, body, status] of cases) {
      for (const ref of [app.id, "acme/web/api"]) {
        const r = await t.req(method, `${A}/${ref}/${suffix}`, body, { key });
        expect({ method, suffix, ref, status: r.status }).toEqual({ method, suffix, ref, status });
        expect(r.body.message).not.toContain("name:");
        expect(r.body.message.length).toBeGreaterThan(20);
        expect((await t.req(method, `${A}/${ref}/${suffix}`, body, { key: stranger })).status).toBe(404);
        expect((await t.req(method, `${A}/${ref}/${suffix}`, body)).status).toBe(401);
      }
    }
    // observability by id is a real route (not the list of a project called "observability")
    const obs = await t.req("GET", `${A}/${app.id}/observability`, undefined, { key });
    expect(obs.status).toBe(200);
    expect(Array.isArray(obs.body)).toBe(false);
  });

  test("an id with any other word is a JSON 404 before the body is looked at; a project called exec, database or cache still works", async () => {
    const post = await t.req("POST", `${A}/${app.id}/frobnicate`, { no: "name" }, { key });
    expect(post.status).toBe(404);
    expect(post.body.message).toContain("/applications/{application_id}/frobnicate");
    expect((await t.req("GET", `${A}/${app.id}/frobnicate`, undefined, { key })).status).toBe(404);
    for (const project of ["exec", "database", "cache"]) {
      expect((await t.req("POST", "/api/v1/projects/acme", { name: project, slug: project }, { key })).status).toBe(201);
      const created = await t.req("POST", `${A}/acme/${project}`, { name: "inside" }, { key });
      expect({ project, status: created.status }).toEqual({ project, status: 201 });
      expect((await t.req("GET", `${A}/acme/${project}`, undefined, { key })).body.map((a: { slug: string }) => a.slug)).toEqual(["inside"]);
    }
  });
});

describe("documented shapes of the markdown routes", () => {
  test("promote preview has the config_diff wrapper; promote answers source_release_id, target_release_id, target_deployment_id", async () => {
    expect((await t.req("POST", `${P}/envs`, { name: "staging" }, { key })).status).toBe(201);
    const staged = (await t.req("POST", `${P}/envs/staging/services`, { name: "promoted" }, { key })).body;
    const { release } = seedDeployed(staged.id);
    await t.req("POST", `${P}/envs/staging/config`, { name: "ONLY_STAGING", value: "1" }, { key });
    const q = { service: "promoted", source_env: "staging", target_env: "production" };
    const preview = await t.req("GET", `${P}/promote/preview?${new URLSearchParams(q)}`, undefined, { key });
    expect(preview.status).toBe(200);
    expect(preview.body).toMatchObject({ source_env: "staging", target_env: "production", source_release_version: 1, config_diff: { removed: ["ONLY_STAGING"], changed: [] } });
    expect(preview.body.config_diff).toEqual({ added: preview.body.added, removed: preview.body.removed, changed: preview.body.changed });
    const done = await t.req("POST", `${P}/promote`, q, { key });
    expect(done.status).toBe(201);
    expect(done.body).toMatchObject({ source_release_id: release.id, target_release_id: expect.any(String), target_deployment_id: done.body.deployment_id });
    expect(done.body.target_release_id).not.toBe(release.id);
    expect((await t.req("GET", `${P}/promotions/${done.body.id}`, undefined, { key })).body.target_deployment_id).toBe(done.body.deployment_id);
  });

  test("service deploy returns the release and deployment ids", async () => {
    const svc = (await t.req("POST", `${P}/envs/production/services`, { name: "redeployed" }, { key })).body;
    const { release } = seedDeployed(svc.id);
    for (const body of [{}, { version: 1 }]) {
      const r = await t.req("POST", `${P}/envs/production/services/redeployed/deploy`, body, { key });
      expect(r.status).toBe(201);
      expect(referenceProblems("ReleaseDeployResponse", r.body)).toEqual([]);
      expect(r.body).toEqual({ ok: true, deployment_id: expect.any(String), release_id: release.id, release_version: 1 });
    }
  });
});

test("the services list carries github_repository and process_counts (both list routes)", async () => {
  const created = await t.req("POST", `${P}/envs/production/services`, { name: "listed", github_repository: "acme/listed", process_counts: { web: 2 } }, { key });
  expect(created.status).toBe(201);
  for (const path of [`${P}/envs/production/services`, `${A}/acme/web`]) {
    const list = await t.req("GET", path, undefined, { key });
    expect(list.status).toBe(200);
    for (const row of list.body) expect(referenceProblems("ApplicationSummary", row)).toEqual([]);
    expect(list.body.find((s: { slug: string }) => s.slug === "listed")).toMatchObject({ id: created.body.id, name: "listed", slug: "listed", platform: "wind", github_repository: "acme/listed", process_counts: { web: 2 } });
    expect(list.body.find((s: { slug: string }) => s.slug === "api")).toMatchObject({ github_repository: null, process_counts: { web: 1 } });
  }
});

describe("ancla open (published CLI): /dashboard paths redirect to this dashboard's pages", () => {
  test("/dashboard, /dashboard/orgs/{org}, …/projects/{project}, …/apps/{app} (the app in the project's default environment)", async () => {
    // what a browser sends: the session cookie
    const login = await t.req("POST", "/api/v1/auth/login", { email: "owner", password: "password-owner" });
    const cookie = login.headers.get("set-cookie")!.split(";")[0]!;
    const cases: [string, string][] = [
      ["/dashboard", "/"],
      ["/dashboard/", "/"],
      ["/dashboard/orgs/acme", "/orgs/acme"],
      ["/dashboard/orgs/acme/projects/web", "/orgs/acme/projects/web"],
      ["/dashboard/orgs/acme/projects/web/apps/api", "/orgs/acme/projects/web/envs/production/services/api"],
      ["/dashboard/orgs/acme/projects/web/apps/api/settings", "/orgs/acme/projects/web/envs/production/services/api"],
      ["/dashboard/something-else", "/"],
    ];
    for (const [from, to] of cases) {
      const r = await t.req("GET", from, undefined, { cookie });
      expect({ from, status: r.status, location: r.headers.get("location") }).toEqual({ from, status: 302, location: to });
    }
    // a renamed default environment is followed for a member; anyone else gets the default name (nothing leaks)
    expect((await t.req("PATCH", `${P}/envs/production`, { slug: "live" }, { key })).status).toBe(200);
    expect((await t.req("GET", "/dashboard/orgs/acme/projects/web/apps/api", undefined, { cookie })).headers.get("location")).toBe("/orgs/acme/projects/web/envs/live/services/api");
    expect((await t.req("GET", "/dashboard/orgs/acme/projects/web/apps/api")).headers.get("location")).toBe("/orgs/acme/projects/web/envs/production/services/api");
    expect((await t.req("PATCH", `${P}/envs/live`, { slug: "production" }, { key })).status).toBe(200);
  });
});
