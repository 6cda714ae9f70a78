import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { orgsWorld, snapshotDb, testApp, type TestApp, type TestUser } from "../support/app";
import { referenceProblems } from "../support/reference-schema";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

let t: TestApp;
type U = TestUser;
let owner: U, member: U, outsider: U, root: U;
const envBase = "/api/v1/orgs/acme/projects/web/envs";
const base = `${envBase}/production/services`;

beforeEach(async () => {
  t = await testApp();
  const w = await orgsWorld(t, { project: true, otherProject: true, root: true });
  ({ owner, member, outsider } = w);
  root = w.root!;
});
afterEach(() => t.close());

const create = (body: unknown, key = member.key, at = base) => t.req("POST", at, body, { key });

describe("services", () => {
  test("create with defaults returns ApplicationDetail plus the service fields", async () => {
    const r = await create({ name: "API Server" });
    expect(r.status).toBe(201);
    expect(referenceProblems("ApplicationDetail", r.body)).toEqual([]);
    expect(r.body).toMatchObject({
      name: "API Server",
      slug: "api-server",
      platform: "wind",
      port: 8000,
      keep_images: 5,
      dockerfile_path: "Dockerfile",
      health_check_path: "/_health/",
      deployment_timeout: 180,
      privileged: false,
      domains: [],
      image: null,
      git_url: null,
      build_ref: null,
      environment_slug: "production",
      project_slug: "web",
      organization_slug: "acme",
      process_counts: { web: 1 },
      latest_image: null,
      latest_release: null,
      latest_deployment: null,
    });
  });

  test("every field round-trips through create, get and patch", async () => {
    const full = {
      name: "Worker",
      slug: "worker",
      platform: "steam",
      image: "registry.local:5000/team/worker:1.2.3",
      git_url: "git@github.com:acme/worker.git",
      github_repository: "acme/worker",
      github_repository_is_private: true,
      build_ref: "release/1.x",
      dockerfile_path: "docker/Dockerfile.prod",
      subdirectory: "services/worker",
      domains: ["Worker.Example.COM.", "api.example.com"],
      port: 3000,
      keep_images: 10,
      process_counts: { web: 2, worker: 0 },
      process_pod_classes: { web: "medium", worker: "nano" },
      auto_deploy_branch: "main",
      deployment_timeout: 600,
      health_check_path: "/healthz",
      health_check_host: "worker.internal",
      github_app_installation_id: 42,
      github_environment_name: "Production",
    };
    const r = await create(full);
    expect(r.status).toBe(201);
    const expected = { ...full, domains: ["worker.example.com", "api.example.com"] };
    expect(r.body).toMatchObject(expected);
    expect((await t.req("GET", `${base}/worker`, undefined, { key: member.key })).body).toMatchObject(expected);
    const p = await t.req("PATCH", `${base}/worker`, { image: null, health_check_path: null, deployment_timeout: null, domains: [], platform: "nuclear" }, { key: member.key });
    expect(p.status).toBe(200);
    expect(p.body).toMatchObject({ image: null, health_check_path: "/_health/", deployment_timeout: 180, domains: [], platform: "nuclear", port: 3000 });
    expect(referenceProblems("ApplicationDetail", p.body)).toEqual([]);
  });

  test("list gives ApplicationSummary rows; delete removes the service", async () => {
    await create({ name: "b-svc" });
    await create({ name: "a-svc" });
    const list = await t.req("GET", base, undefined, { key: member.key });
    expect(list.body.map((s: { slug: string }) => s.slug)).toEqual(["a-svc", "b-svc"]);
    for (const s of list.body) expect(referenceProblems("ApplicationSummary", s)).toEqual([]);
    expect((await t.req("DELETE", `${base}/a-svc`, undefined, { key: member.key })).body).toEqual({ ok: true });
    expect((await t.req("GET", `${base}/a-svc`, undefined, { key: member.key })).status).toBe(404);
    expect((await t.req("GET", base, undefined, { key: member.key })).body).toHaveLength(1);
  });

  test("slug unique per environment (409); the same slug in another environment is fine", async () => {
    await create({ name: "api-svc" });
    await create({ name: "other" });
    const before = snapshotDb(t.deps);
    expect((await create({ name: "api-svc" })).status).toBe(409);
    expect((await t.req("PATCH", `${base}/other`, { slug: "api-svc" }, { key: member.key })).status).toBe(409);
    expect(snapshotDb(t.deps)).toBe(before);
    await t.req("POST", envBase, { name: "staging" }, { key: member.key });
    expect((await create({ name: "api-svc" }, member.key, `${envBase}/staging/services`)).status).toBe(201);
  });

  test("domains are unique across the whole server (409), also across organizations", async () => {
    await create({ name: "one", domains: ["shop.example.com"] });
    const before = snapshotDb(t.deps);
    expect((await create({ name: "two", domains: ["SHOP.example.com"] })).status).toBe(409);
    const theirs = await create({ name: "theirs", domains: ["shop.example.com"] }, outsider.key, "/api/v1/orgs/other/projects/web/envs/production/services");
    expect(theirs.status).toBe(409);
    expect(theirs.body.message).toContain("shop.example.com");
    expect(snapshotDb(t.deps)).toBe(before);
    // re-saving its own domains is not a clash
    expect((await t.req("PATCH", `${base}/one`, { domains: ["shop.example.com", "www.example.com"] }, { key: member.key })).status).toBe(200);
    await create({ name: "two" });
    expect((await t.req("PATCH", `${base}/two`, { domains: ["www.example.com"] }, { key: member.key })).status).toBe(409);
  });

  test("privileged: only server admins may set or change it (403 for org admins and members)", async () => {
    const before = snapshotDb(t.deps);
    expect((await create({ name: "priv", privileged: true }, owner.key)).status).toBe(403);
    expect((await create({ name: "priv", privileged: true }, member.key)).status).toBe(403);
    expect(snapshotDb(t.deps)).toBe(before);
    const r = await create({ name: "priv", privileged: true }, root.key);
    expect(r).toMatchObject({ status: 201, body: { privileged: true } });
    expect((await t.req("PATCH", `${base}/priv`, { privileged: false }, { key: owner.key })).status).toBe(403);
    // saving the same value with other changes is allowed
    expect((await t.req("PATCH", `${base}/priv`, { privileged: true, port: 9000 }, { key: owner.key })).status).toBe(200);
    expect((await t.req("PATCH", `${base}/priv`, { privileged: false }, { key: root.key })).body.privileged).toBe(false);
  });

  test("members may not delete services of a protected environment", async () => {
    await create({ name: "api-svc" });
    await t.req("PATCH", `${envBase}/production`, { protected: true }, { key: owner.key });
    const before = snapshotDb(t.deps);
    expect((await t.req("DELETE", `${base}/api-svc`, undefined, { key: member.key })).status).toBe(403);
    expect(snapshotDb(t.deps)).toBe(before);
    expect((await t.req("DELETE", `${base}/api-svc`, undefined, { key: owner.key })).status).toBe(200);
  });

  test("no credentials → 401; another organization → 404; nothing changes", async () => {
    await create({ name: "api-svc" });
    const before = snapshotDb(t.deps);
    const routes: [string, string, unknown?][] = [
      ["GET", base],
      ["POST", base, { name: "x" }],
      ["GET", `${base}/api-svc`],
      ["PATCH", `${base}/api-svc`, { name: "x" }],
      ["DELETE", `${base}/api-svc`],
    ];
    for (const [m, p, b] of routes) expect([m, p, (await t.req(m, p, b)).status]).toEqual([m, p, 401]);
    for (const [m, p, b] of routes) expect([m, p, (await t.req(m, p, b, { key: outsider.key })).status]).toEqual([m, p, 404]);
    expect((await t.req("GET", `${envBase}/nope/services`, undefined, { key: member.key })).status).toBe(404);
    expect((await t.req("GET", `${base}/nope`, undefined, { key: member.key })).status).toBe(404);
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("values that could reach a command line or a router are validated (422, nothing changes)", async () => {
    await create({ name: "api-svc" });
    const before = snapshotDb(t.deps);
    const bad: Record<string, unknown>[] = [
      { git_url: "--upload-pack=touch /tmp/pwned" },
      { git_url: "ext::sh -c touch% /tmp/pwned" },
      { git_url: "https://github.com/acme/app.git\n--depth" },
      { git_url: "https://user:hunter2-password@github.com/acme/app.git" },
      { git_url: "ftp://example.com/repo.git" },
      { git_url: "not a url" },
      { git_url: "" },
      { git_url: "https://example.com/" + "a".repeat(3000) },
      { image: "a".repeat(600) },
      { domains: ["a".repeat(64) + ".example.com"] },
      { health_check_path: "/" + "p".repeat(300) },
      { image: "Nginx" },
      { image: "acme/App:1" },
      { image: "nginx;rm -rf /" },
      { image: "-nginx" },
      { image: "nginx:" },
      { image: "nginx@sha256:xyz" },
      { image: "$(id)" },
      { domains: ["-bad.example.com"] },
      { domains: ["localhost"] },
      { domains: ["127.0.0.1"] },
      { domains: ["a..b.com"] },
      { domains: ["exa mple.com"] },
      { domains: ["*.example.com"] },
      { domains: "example.com" },
      { domains: Array.from({ length: 21 }, (_, i) => `d${i}.example.com`) },
      { build_ref: "-b" },
      { build_ref: "a b" },
      { build_ref: "main;reboot" },
      { dockerfile_path: "../Dockerfile" },
      { dockerfile_path: "/etc/passwd" },
      { subdirectory: "a/../../b" },
      { subdirectory: "a\u0000" },
      { github_repository: "not a repo" },
      { github_repository: "-x/y" },
      { health_check_path: "health" },
      { health_check_path: "/a b" },
      { health_check_host: "bad host" },
      { port: 0 },
      { port: 65536 },
      { port: "80" },
      { port: 80.5 },
      { keep_images: 0 },
      { keep_images: 51 },
      { deployment_timeout: 9 },
      { deployment_timeout: 3601 },
      { platform: "coal" },
      { process_counts: { web: 21 } },
      { process_counts: { web: -1 } },
      { process_counts: { "Web Process": 1 } },
      { process_counts: { web: "2" } },
      { process_pod_classes: { web: "huge" } },
      { process_pod_classes: { "-web": "small" } },
      { privileged: "true" },
      { github_app_installation_id: -1 },
      { name: "" },
      { name: "x".repeat(101) },
      { name: "bell\u0007" },
      { slug: "Caps" },
      { slug: "static" },
      { slug: "0190a0b0-0000-7000-8000-000000000000" },
    ];
    for (const body of bad) {
      const c = await create({ name: "new-svc", ...body });
      expect([body, c.status]).toEqual([body, 422]);
      expect(typeof c.body.message).toBe("string");
      const p = await t.req("PATCH", `${base}/api-svc`, body, { key: member.key });
      expect([body, p.status]).toEqual([body, 422]);
    }
    expect((await create({})).status).toBe(422);
    const malformed = await t.req("POST", base, undefined, { key: member.key, raw: "{]", headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
    expect(snapshotDb(t.deps)).toBe(before);
    expect(t.bodies.join("\n")).not.toContain("hunter2-password");
  });

  test("good git URLs and image references of every accepted form", async () => {
    const gitUrls = ["https://github.com/acme/app.git", "http://93.184.216.34:3000/acme/app", "ssh://git@host.example:22/acme/app.git", "git://host.example/app.git", "git@github.com:acme/app.git", "https://token@github.com/acme/app"];
    const images = ["nginx", "nginx:1.27-alpine", "library/nginx:latest", "localhost:5000/a/b/c:v1", "ancla-test/busybox", "ghcr.io/acme/app@sha256:" + "a".repeat(64), "my_registry.local/app__x:tag.1"];
    let i = 0;
    for (const git_url of gitUrls) expect([git_url, (await create({ name: `g${i++}`, git_url })).status]).toEqual([git_url, 201]);
    for (const image of images) expect([image, (await create({ name: `i${i++}`, image })).status]).toEqual([image, 201]);
    const local = await create({ name: "local", git_url: "file:///srv/git/app.git" });
    expect(local.status).toBe(422); // reads the server's disk: server admins only (more in git-source.test.ts)
    const serverAdmin = await t.user("server-admin", { admin: true });
    const byAdmin = await t.req("POST", base, { name: "local", git_url: "file:///srv/git/app.git" }, { key: serverAdmin.key });
    expect(byAdmin.status).toBe(201);
    const gh = await create({ name: "gh", github_repository: "https://github.com/Acme/My.App.git" });
    expect(gh.body.github_repository).toBe("Acme/My.App");
  });
});
