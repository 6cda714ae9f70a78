// A service's git credentials in a protected environment (deploy key, pinned host keys, HTTPS
// token) and what it builds and deploys on its own (source, auto-deploy branch, replica counts) are
// changed by org admins only, like deploys there: a member gets 403 and nothing changes; reading
// stays open; in an unprotected environment members keep the right.
import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { orgsWorld, snapshotDb, testApp, type TestApp, type TestUser } from "../support/app";

setDefaultTimeout(180_000);

let t: TestApp;
let owner: TestUser, member: TestUser;
const envs = "/api/v1/orgs/acme/projects/web/envs";
const svc = (env: string) => `${envs}/${env}/services/api`;

beforeEach(async () => {
  t = await testApp();
  ({ owner, member } = await orgsWorld(t, { project: true }));
  expect((await t.req("PATCH", `${envs}/production`, { protected: true }, { key: owner.key })).status).toBe(200);
  expect((await t.req("POST", envs, { name: "staging" }, { key: owner.key })).status).toBe(201);
  for (const env of ["production", "staging"]) expect((await t.req("POST", `${envs}/${env}/services`, { name: "api", git_url: "https://git.example.com/acme/api.git" }, { key: owner.key })).status).toBe(201);
});
afterEach(() => t.close());

describe("git credentials of a protected environment's service", () => {
  test("a member may not create or delete the deploy key, reset pinned host keys or set the HTTPS token", async () => {
    expect((await t.req("POST", `${svc("production")}/git-token`, { token: "admin-token-1" }, { key: owner.key })).status).toBe(200);
    expect((await t.req("POST", `${svc("production")}/deploy-key`, undefined, { key: owner.key })).status).toBe(201);
    const before = snapshotDb(t.deps);
    const attempts: [string, string, unknown?][] = [
      ["POST", "deploy-key"],
      ["DELETE", "deploy-key"],
      ["DELETE", "deploy-key/known-hosts"],
      ["POST", "git-token", { token: "member-token-2" }],
      ["DELETE", "git-token"],
    ];
    for (const [method, path, body] of attempts) {
      const r = await t.req(method, `${svc("production")}/${path}`, body, { key: member.key });
      expect({ method, path, status: r.status }).toEqual({ method, path, status: 403 });
      expect(r.body.message).toContain("protected");
    }
    expect(snapshotDb(t.deps)).toBe(before);
    const view = await t.req("GET", `${svc("production")}/deploy-key`, undefined, { key: member.key });
    expect(view.status).toBe(200);
    expect(view.body).toMatchObject({ https_token_set: true, public_key: expect.stringContaining("ssh-ed25519") });
  });

  test("in an unprotected environment members keep the right", async () => {
    expect((await t.req("POST", `${svc("staging")}/git-token`, { token: "member-token-3" }, { key: member.key })).status).toBe(200);
    expect((await t.req("POST", `${svc("staging")}/deploy-key`, undefined, { key: member.key })).status).toBe(201);
    expect((await t.req("DELETE", `${svc("staging")}/git-token`, undefined, { key: member.key })).status).toBe(200);
  });
});

describe("a protected environment's service settings", () => {
  test("a member may not set the source, the auto-deploy branch or the counts (create or update); other settings stay theirs", async () => {
    const before = snapshotDb(t.deps);
    const changes: Record<string, unknown>[] = [
      { auto_deploy_branch: "member-branch" },
      { git_url: "https://git.example.com/mallory/api.git" },
      { build_ref: "member-branch" },
      { image: "busybox:latest" },
      { dockerfile_path: "Other.dockerfile" },
      { process_counts: { web: 0 } },
    ];
    for (const body of changes) {
      const r = await t.req("PATCH", svc("production"), body, { key: member.key });
      expect({ body, status: r.status }).toEqual({ body, status: 403 });
      expect(r.body.message).toContain("protected");
    }
    const created = await t.req("POST", `${envs}/production/services`, { name: "worker", git_url: "https://git.example.com/acme/api.git", auto_deploy_branch: "member-branch" }, { key: member.key });
    expect(created.status).toBe(403);
    expect(snapshotDb(t.deps)).toBe(before);
    expect((await t.req("PATCH", svc("production"), { health_check_path: "/up/" }, { key: member.key })).status).toBe(200);
    expect((await t.req("PATCH", svc("production"), { auto_deploy_branch: "main" }, { key: owner.key })).status).toBe(200);
    expect((await t.req("PATCH", svc("staging"), { auto_deploy_branch: "member-branch" }, { key: member.key })).status).toBe(200);
  });
});
