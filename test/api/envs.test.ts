import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { orgsWorld, snapshotDb, testApp, type TestApp, type TestUser } from "../support/app";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

let t: TestApp;
type U = TestUser;
let owner: U, member: U, outsider: U;
const base = "/api/v1/orgs/acme/projects/web/envs";

beforeEach(async () => {
  t = await testApp();
  ({ owner, member, outsider } = await orgsWorld(t, { project: true }));
});
afterEach(() => t.close());

const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: { server: "https://127.0.0.1:6443" }
users:
- name: u
  user: { token: "super-secret-token-value" }
contexts:
- name: x
  context: { cluster: c, user: u }
current-context: x
`;

describe("environments", () => {
  test("members create, list, get, patch and delete; staging is typed from its slug", async () => {
    const r = await t.req("POST", base, { name: "Staging" }, { key: member.key });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      name: "Staging",
      slug: "staging",
      env_type: "staging",
      is_default: false,
      protected: false,
      ephemeral: false,
      target: "docker",
      kubeconfig_set: false,
      kubeconfig_server: null,
      namespace: null,
      auto_deploy_branch: null,
      service_count: 0,
      project_slug: "web",
      organization_slug: "acme",
    });
    await t.req("POST", base, { name: "QA box", env_type: "development", auto_deploy_branch: "feature/qa", ephemeral: true }, { key: member.key });
    await t.req("POST", `${base}/staging/services`, { name: "api-svc" }, { key: member.key });
    const list = await t.req("GET", base + "/", undefined, { key: member.key });
    expect(list.body.map((e: { slug: string; service_count: number }) => [e.slug, e.service_count])).toEqual([
      ["production", 0],
      ["qa-box", 0],
      ["staging", 1],
    ]);
    const g = await t.req("GET", `${base}/qa-box`, undefined, { key: member.key });
    expect(g.body).toMatchObject({ env_type: "development", auto_deploy_branch: "feature/qa", ephemeral: true });
    const p = await t.req("PATCH", `${base}/qa-box`, { name: "QA", slug: "qa", auto_deploy_branch: null, namespace: "acme-qa" }, { key: member.key });
    expect(p.body).toMatchObject({ name: "QA", slug: "qa", auto_deploy_branch: null, namespace: "acme-qa" });
    expect((await t.req("DELETE", `${base}/qa`, undefined, { key: member.key })).body).toEqual({ ok: true });
    expect((await t.req("GET", `${base}/qa`, undefined, { key: member.key })).status).toBe(404);
  });

  test("deleting an environment deletes its services and their config", async () => {
    await t.req("POST", base, { name: "staging" }, { key: owner.key });
    const svc = (await t.req("POST", `${base}/staging/services`, { name: "api-svc" }, { key: owner.key })).body;
    const env = (await t.req("GET", `${base}/staging`, undefined, { key: owner.key })).body;
    const now = new Date().toISOString();
    for (const [id, scope, scopeId] of [["c1", "service", svc.id], ["c2", "environment", env.id]]) {
      t.deps.sqlite.run("insert into config_vars (id, scope, scope_id, name, value, secret, buildtime, created_at, updated_at) values (?,?,?,?,?,0,0,?,?)", [id!, scope!, scopeId!, "A", "1", now, now]);
    }
    expect((await t.req("DELETE", `${base}/staging`, undefined, { key: owner.key })).status).toBe(200);
    expect(t.deps.sqlite.query("select count(*) as n from services").get()).toEqual({ n: 0 });
    expect(t.deps.sqlite.query("select count(*) as n from config_vars").get()).toEqual({ n: 0 });
  });

  test("the default environment cannot be deleted (409)", async () => {
    const before = snapshotDb(t.deps);
    const r = await t.req("DELETE", `${base}/production`, undefined, { key: owner.key });
    expect(r.status).toBe(409);
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("protection is an admin decision: members get 403 to set, change or delete a protected env", async () => {
    const before = snapshotDb(t.deps);
    expect((await t.req("POST", base, { name: "staging", protected: true }, { key: member.key })).status).toBe(403);
    expect((await t.req("PATCH", `${base}/production`, { protected: true }, { key: member.key })).status).toBe(403);
    expect(snapshotDb(t.deps)).toBe(before);
    expect((await t.req("PATCH", `${base}/production`, { protected: true }, { key: owner.key })).body.protected).toBe(true);
    expect((await t.req("POST", base, { name: "stage", protected: true }, { key: owner.key })).status).toBe(201);
    const mid = snapshotDb(t.deps);
    expect((await t.req("PATCH", `${base}/stage`, { protected: false }, { key: member.key })).status).toBe(403);
    expect((await t.req("DELETE", `${base}/stage`, undefined, { key: member.key })).status).toBe(403);
    expect(snapshotDb(t.deps)).toBe(mid);
    // members may still edit other fields of a protected environment
    expect((await t.req("PATCH", `${base}/stage`, { name: "Stage 2", protected: true }, { key: member.key })).status).toBe(200);
    expect((await t.req("DELETE", `${base}/stage`, undefined, { key: owner.key })).status).toBe(200);
  });

  // sealing at rest, the fingerprint, the registry and the check: test/api/envs-kubernetes.test.ts
  test("kubeconfig: contents are stored but never echoed; its server is shown", async () => {
    const r = await t.req("POST", base, { name: "k8s", target: "kubernetes", kubeconfig: KUBECONFIG, namespace: "acme" }, { key: owner.key });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({ target: "kubernetes", kubeconfig_set: true, kubeconfig_server: "https://127.0.0.1:6443", namespace: "acme" });
    expect(r.text).not.toContain("super-secret-token-value");
    expect((await t.req("GET", `${base}/k8s`, undefined, { key: owner.key })).text).not.toContain("super-secret");
    expect((await t.req("GET", base, undefined, { key: owner.key })).text).not.toContain("super-secret");
    // a path on the server is no kubeconfig: the server never reads its own files for a user
    expect((await t.req("PATCH", `${base}/k8s`, { kubeconfig: "/etc/ancla/cluster.yaml" }, { key: owner.key })).status).toBe(422);
    // a kubernetes target needs a kubeconfig
    const before = snapshotDb(t.deps);
    expect((await t.req("PATCH", `${base}/k8s`, { kubeconfig: null }, { key: owner.key })).status).toBe(422);
    expect((await t.req("POST", base, { name: "k2", target: "kubernetes" }, { key: owner.key })).status).toBe(422);
    expect(snapshotDb(t.deps)).toBe(before);
    expect((await t.req("PATCH", `${base}/k8s`, { target: "docker", kubeconfig: null }, { key: owner.key })).body).toMatchObject({ target: "docker", kubeconfig_set: false });
    expect(t.bodies.join("\n")).not.toContain("super-secret-token-value");
  });

  test("duplicate slug → 409 on create and rename", async () => {
    await t.req("POST", base, { name: "staging" }, { key: owner.key });
    await t.req("POST", base, { name: "dev" }, { key: owner.key });
    const before = snapshotDb(t.deps);
    expect((await t.req("POST", base, { name: "Staging" }, { key: owner.key })).status).toBe(409);
    expect((await t.req("POST", base, { name: "x", slug: "production" }, { key: owner.key })).status).toBe(409);
    expect((await t.req("PATCH", `${base}/dev`, { slug: "staging" }, { key: owner.key })).status).toBe(409);
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("no credentials → 401; another organization → 404; nothing changes", async () => {
    await t.req("POST", base, { name: "staging" }, { key: owner.key });
    const before = snapshotDb(t.deps);
    const routes: [string, string, unknown?][] = [
      ["GET", base],
      ["POST", base, { name: "x" }],
      ["GET", `${base}/staging`],
      ["PATCH", `${base}/staging`, { name: "x" }],
      ["DELETE", `${base}/staging`],
    ];
    for (const [m, p, b] of routes) expect([m, p, (await t.req(m, p, b)).status]).toEqual([m, p, 401]);
    for (const [m, p, b] of routes) expect([m, p, (await t.req(m, p, b, { key: outsider.key })).status]).toEqual([m, p, 404]);
    expect((await t.req("GET", "/api/v1/orgs/acme/projects/nope/envs", undefined, { key: owner.key })).status).toBe(404);
    expect((await t.req("GET", `${base}/nope`, undefined, { key: owner.key })).status).toBe(404);
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("bad input → 4xx and nothing changes", async () => {
    const before = snapshotDb(t.deps);
    const cases: unknown[] = [
      {},
      { name: 7 },
      { name: "" },
      { name: "x", slug: "Nope" },
      { name: "x", slug: "login" },
      { name: "x", slug: "0190a0b0-0000-7000-8000-000000000000" },
      { name: "a\u0000b" },
      { name: "n".repeat(1000) },
      { name: "x", env_type: "prod" },
      { name: "x", target: "nomad" },
      { name: "x", protected: "yes" },
      { name: "x", auto_deploy_branch: "--upload-pack=evil" },
      { name: "x", auto_deploy_branch: "a b" },
      { name: "x", auto_deploy_branch: "a..b" },
      { name: "x", namespace: "Bad_NS" },
      { name: "x", target: "kubernetes", kubeconfig: "not: [a kubeconfig" },
      { name: "x", target: "kubernetes", kubeconfig: "just text\nwith lines" },
      { name: "x", kubeconfig: "/etc/../root/.kube/config" },
    ];
    for (const body of cases) {
      const r = await t.req("POST", base, body, { key: owner.key });
      expect([body, r.status]).toEqual([body, 422]);
      expect(typeof r.body.message).toBe("string");
    }
    for (const body of [{ env_type: "x" }, { slug: "UP" }, { ephemeral: 1 }, { target: null }]) {
      expect([body, (await t.req("PATCH", `${base}/production`, body, { key: owner.key })).status]).toEqual([body, 422]);
    }
    const malformed = await t.req("POST", base, undefined, { key: owner.key, raw: '{"name": "x"', headers: { "content-type": "application/json" } });
    expect(malformed.status).toBe(400);
    expect(snapshotDb(t.deps)).toBe(before);
  });
});
