// Resource commands against a live server, in table and --json form: orgs (and members),
// projects, envs, services and apps; failures exit non-zero; linked defaults fill targets.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ancla, startLiveServer, type CliResult, type LiveServer } from "../support/server";

// each test runs several CLI subprocesses against a live server; on a busy machine that can pass bun's default 5 s
setDefaultTimeout(300_000);

let s: LiveServer;
let bob: string; // a plain user's key
let linked: string; // a directory with .ancla/config.yaml linking acme/web/staging

const cli = (args: string[], key = s.adminKey, cwd?: string): Promise<CliResult> =>
  ancla(args, { home: s.home, cwd, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: key } });

/** Run and insist on success, showing stderr when it fails. */
async function ok(args: string[], key?: string, cwd?: string): Promise<CliResult> {
  const r = await cli(args, key, cwd);
  if (r.code !== 0) throw new Error(`ancla ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

const header = (r: CliResult) => r.stdout.split("\n")[0]!.split(/\s{2,}/);
const rowOf = (r: CliResult, first: string) => r.stdout.split("\n").find((l) => l.split(/\s{2,}/)[0] === first)?.split(/\s{2,}/);

beforeAll(async () => {
  s = await startLiveServer();
  const made = await ancla(["admin", "create-user", "bob", "bob@example.test", "--data-dir", s.dataDir], { home: s.home });
  expect(made.code).toBe(0);
  bob = (await ancla(["admin", "create-key", "bob", "--data-dir", s.dataDir], { home: s.home })).stdout.trim().split("\n").pop()!;
  linked = mkdtempSync(join(tmpdir(), "ancla-linked-"));
  mkdirSync(join(linked, ".ancla"));
  writeFileSync(join(linked, ".ancla", "config.yaml"), "org: acme\nproject: web\nenv: staging\nservice: worker\n");
  mkdirSync(join(linked, "sub"));
});
afterAll(async () => {
  await s.stop();
  rmSync(linked, { recursive: true, force: true });
});

describe("orgs", () => {
  test("create → get → list, in table and json form", async () => {
    const created = await ok(["orgs", "create", "Acme Inc", "--slug", "acme"]);
    expect(created.stdout).toMatch(/^slug:\s+acme$/m);
    expect(created.stdout).toMatch(/^members:\s+admin \(admin\)$/m);
    const json = (await ok(["orgs", "get", "acme", "--json"])).json();
    expect(json).toMatchObject({ name: "Acme Inc", slug: "acme", project_count: 0, members: [{ username: "admin", admin: true }] });
    const list = await ok(["orgs", "list"]);
    expect(header(list)).toEqual(["SLUG", "NAME", "MEMBERS", "PROJECTS"]);
    expect(rowOf(list, "acme")).toEqual(["acme", "Acme Inc", "1", "0"]);
    expect((await ok(["orgs", "list", "-o", "json"])).json()).toEqual([{ id: json.id, name: "Acme Inc", slug: "acme", member_count: 1, project_count: 0 }]);
  });

  test("members add, list, toggle-admin, remove (by username)", async () => {
    const added = await ok(["orgs", "members", "add", "acme", "bob"]);
    expect(rowOf(added, "bob")?.slice(0, 3)).toEqual(["bob", "bob@example.test", "no"]);
    expect((await ok(["orgs", "list", "--json"], bob)).json().map((o: { slug: string }) => o.slug)).toEqual(["acme"]);
    // bob is a plain member: admin actions are refused with exit 3
    const refused = await cli(["orgs", "members", "toggle-admin", "acme", "admin"], bob);
    expect(refused.code).toBe(3);
    const toggled = await ok(["orgs", "members", "toggle-admin", "acme", "bob", "--json"]);
    expect(toggled.json()).toMatchObject({ ok: true, admin: true, username: "bob" });
    expect((await ok(["orgs", "members", "toggle-admin", "acme", "bob"])).stdout).toContain("bob is no longer an admin of acme");
    const members = await ok(["orgs", "members", "list", "acme", "--json"]);
    expect(members.json().map((m: { username: string; admin: boolean }) => [m.username, m.admin])).toEqual([["admin", true], ["bob", false]]);
    const removed = await ok(["orgs", "members", "remove", "acme", "bob", "--json"]);
    expect(removed.json()).toMatchObject({ ok: true, org: "acme", username: "bob" });
    expect((await cli(["orgs", "get", "acme"], bob)).code).toBe(4); // no longer a member: not found
    const back = await ok(["orgs", "members", "add", "acme", "bob", "--json"]); // back for the tests below
    expect(back.json().members.map((m: { username: string }) => m.username)).toEqual(["admin", "bob"]);
    expect((await ok(["orgs", "members", "remove", "acme", "bob"])).stdout).toContain("removed bob from acme");
    await ok(["orgs", "members", "add", "acme", "bob"]);
  });

  test("failures: unknown org 4, duplicate 5, bad slug 2 naming the field, last admin refused, unknown member 4", async () => {
    const unknown = await cli(["orgs", "get", "nope"]);
    expect(unknown.code).toBe(4);
    expect(unknown.stderr).toContain("not found");
    expect((await cli(["orgs", "create", "Again", "--slug", "acme"])).code).toBe(5);
    const bad = await cli(["orgs", "create", "X", "--slug", "Bad Slug"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("slug");
    const last = await cli(["orgs", "members", "remove", "acme", "admin"]);
    expect(last.code).not.toBe(0);
    expect((await cli(["orgs", "members", "remove", "acme", "nobody"])).code).toBe(4);
    expect((await cli(["orgs", "create"])).code).toBe(2);
    const json = await cli(["orgs", "get", "nope", "--json"]);
    expect(JSON.parse(json.stderr)).toEqual({ status: 404, message: expect.any(String) });
  });
});

describe("projects, envs, services, apps", () => {
  test("projects create/list/get", async () => {
    const created = await ok(["projects", "create", "acme/Web", "--slug", "web", "--json"]);
    expect(created.json()).toMatchObject({ name: "Web", slug: "web", organization_slug: "acme", organization_name: "Acme Inc" });
    const list = await ok(["projects", "list", "acme"]);
    expect(header(list)).toEqual(["ORG", "SLUG", "NAME", "APPS", "CREATED"]);
    expect(rowOf(list, "acme")?.slice(0, 4)).toEqual(["acme", "web", "Web", "0"]);
    expect((await ok(["projects", "list", "--json"], bob)).json().map((p: { slug: string }) => p.slug)).toEqual(["web"]);
    expect((await ok(["projects", "get", "acme/web"])).stdout).toMatch(/^organization:\s+Acme Inc \(acme\)$/m);
    expect((await cli(["projects", "get", "acme/nope"])).code).toBe(4);
    expect((await cli(["projects", "create", "nope/web"])).code).toBe(4);
    expect((await cli(["projects", "create", "acme/Web2", "--slug", "web"])).code).toBe(5);
    expect((await cli(["projects", "get", "a/b/c"])).code).toBe(2);
  });

  test("envs: production exists; create staging; get", async () => {
    const list = await ok(["envs", "list", "acme/web"]);
    expect(header(list)).toEqual(["SLUG", "NAME", "TYPE", "PROTECTED", "TARGET", "SERVICES"]);
    expect(rowOf(list, "production")?.slice(2, 5)).toEqual(["production", "no", "docker"]);
    // only org admins may protect an environment
    expect((await cli(["envs", "create", "acme/web/qa", "--protected"], bob)).code).toBe(3);
    const created = await ok(["envs", "create", "acme/web/Staging", "--slug", "staging", "--type", "staging", "--protected", "--json"]);
    expect(created.json()).toMatchObject({ slug: "staging", env_type: "staging", protected: true });
    expect((await ok(["envs", "get", "acme/web/staging"])).stdout).toMatch(/^type:\s+staging$/m);
    const bad = await cli(["envs", "create", "acme/web/qa", "--type", "nightly"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("env_type");
    expect((await cli(["envs", "get", "acme/web/nope"])).code).toBe(4);
  });

  test("services create/list/get in an environment", async () => {
    const created = await ok(["services", "create", "acme/web/staging/Backend", "--slug", "backend", "--image", "ancla-test/busybox:latest", "--port", "8080", "--json"]);
    expect(created.json()).toMatchObject({ slug: "backend", name: "Backend", image: "ancla-test/busybox:latest", port: 8080, environment_slug: "staging" });
    const list = await ok(["services", "list", "acme/web/staging"]);
    expect(header(list)).toEqual(["SLUG", "NAME", "PLATFORM", "IMAGE", "RELEASE", "DEPLOYED"]);
    expect(rowOf(list, "backend")).toEqual(["backend", "Backend", "wind", "-", "-", "-"]);
    const got = await ok(["services", "get", "acme/web/staging/backend"]);
    expect(got.stdout).toMatch(/^target:\s+acme\/web\/staging\/backend$/m);
    expect(got.stdout).toMatch(/^source:\s+ancla-test\/busybox:latest$/m);
    expect((await cli(["services", "create", "acme/web/staging/x", "--port", "eighty"])).code).toBe(2);
    const badPlatform = await cli(["services", "create", "acme/web/staging/x", "--platform", "coal"]);
    expect(badPlatform.code).toBe(2);
    expect(badPlatform.stderr).toContain("platform");
    expect((await cli(["services", "list", "acme/web/staging"], s.adminKey)).stdout).not.toContain(" x ");
  });

  test("apps are the default environment's services", async () => {
    await ok(["services", "create", "acme/web/production/Worker", "--slug", "worker", "--platform", "steam"]);
    const list = await ok(["apps", "list", "acme/web"]);
    expect(rowOf(list, "worker")).toEqual(["worker", "Worker", "steam", "-", "-", "-"]);
    expect(rowOf(list, "backend")).toBeUndefined(); // staging's service is not an app
    const got = await ok(["apps", "get", "acme/web/worker", "--json"]);
    expect(got.json()).toMatchObject({ slug: "worker", platform: "steam", project_slug: "web", organization_slug: "acme" });
    expect((await cli(["apps", "get", "acme/web/backend"])).code).toBe(4);
  });

  test("a linked directory (or below it) supplies org/project/env/service", async () => {
    const sub = join(linked, "sub");
    expect((await ok(["orgs", "get", "--json"], undefined, sub)).json().slug).toBe("acme");
    expect((await ok(["projects", "get", "--json"], undefined, sub)).json().slug).toBe("web");
    expect((await ok(["envs", "get", "--json"], undefined, sub)).json().slug).toBe("staging");
    expect((await ok(["services", "list", "--json"], undefined, sub)).json().map((x: { slug: string }) => x.slug)).toEqual(["backend"]);
    expect((await ok(["services", "get", "backend", "--json"], undefined, sub)).json().environment_slug).toBe("staging");
    expect((await ok(["apps", "get", "--json"], undefined, sub)).json().slug).toBe("worker");
    expect((await ok(["envs", "list", "--json"], undefined, sub)).json().length).toBe(2);
    // outside a linked directory the target is required
    const missing = await cli(["services", "list"]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("missing org");
  });

  test("--json prints exactly what the API answered; the table form shows the same resource", async () => {
    const api = async (path: string) => (await fetch(s.url + path, { headers: { "x-api-key": s.adminKey } })).json();
    const pairs: [string[], string, string][] = [
      [["orgs", "list"], "/api/v1/organizations", "acme"],
      [["orgs", "get", "acme"], "/api/v1/organizations/acme", "acme"],
      [["projects", "list", "acme"], "/api/v1/projects?org=acme", "web"],
      [["projects", "get", "acme/web"], "/api/v1/projects/acme/web", "web"],
      [["envs", "list", "acme/web"], "/api/v1/orgs/acme/projects/web/envs", "staging"],
      [["envs", "get", "acme/web/production"], "/api/v1/orgs/acme/projects/web/envs/production", "production"],
      [["services", "list", "acme/web/staging"], "/api/v1/orgs/acme/projects/web/envs/staging/services", "backend"],
      [["services", "get", "acme/web/staging/backend"], "/api/v1/orgs/acme/projects/web/envs/staging/services/backend", "backend"],
      [["apps", "list", "acme/web"], "/api/v1/applications/acme/web", "worker"],
      [["apps", "get", "acme/web/worker"], "/api/v1/applications/acme/web/worker", "worker"],
    ];
    for (const [args, path, slug] of pairs) {
      const [json, table] = await Promise.all([ok([...args, "--json"]), ok(args)]);
      expect(json.json()).toEqual(await api(path));
      expect(table.stdout).toContain(slug);
      expect(table.stdout.trimStart()).not.toMatch(/^[[{]/); // people get a table or key: value lines
    }
  });

  test("no credentials fail with exit 3 for every remote command", async () => {
    for (const args of [["orgs", "list"], ["projects", "list"], ["envs", "list", "acme/web"], ["services", "list", "acme/web/staging"], ["apps", "list", "acme/web"]]) {
      const r = await ancla(args, { home: s.home, env: { ANCLA_SERVER: s.url } });
      expect(r.code).toBe(3);
    }
  });
});
