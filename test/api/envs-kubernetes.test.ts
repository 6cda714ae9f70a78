// Kubernetes settings of an environment over the API: the kubeconfig and the registry password are
// sealed at rest (the SQLite file's bytes never hold them), never returned (server, context and
// fingerprint are shown), resealed by a master key rotation; bad settings are 422s that change
// nothing; other organizations see 404s; the check says what failed.
import { afterEach, beforeEach, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { orgsWorld, snapshotDb, testApp, type TestApp, type TestUser } from "../support/app";
import { createSecrets, readKeyFile } from "../../src/lib/crypto";
import { rotateMasterKey } from "../../src/modules/config-vars/rotate";
import { sealPlaintextKubeconfigs } from "../../src/db/seal-kubeconfigs";

setDefaultTimeout(180_000);

let t: TestApp;
let owner: TestUser, member: TestUser, outsider: TestUser;
const base = "/api/v1/orgs/acme/projects/web/envs";
const TOKEN = "kube-token-Zq8mW2xV9pL4";
const REGISTRY_PASSWORD = "reg-pass-Hn7Ks3Jd0Qw1";

const kubeconfig = (server = "https://127.0.0.1:6443", token = TOKEN) => `apiVersion: v1
kind: Config
clusters:
- name: main
  cluster: { server: "${server}" }
- name: backup
  cluster: { server: "https://10.20.30.40:6443" }
users:
- name: deployer
  user: { token: "${token}" }
contexts:
- name: prod
  context: { cluster: main, user: deployer }
- name: dr
  context: { cluster: backup, user: deployer }
current-context: prod
`;

beforeEach(async () => {
  t = await testApp();
  ({ owner, member, outsider } = await orgsWorld(t, { project: true }));
});
afterEach(() => t.close());

function dbBytes(): string {
  t.deps.sqlite.exec("PRAGMA wal_checkpoint(TRUNCATE)");
  const file = join(t.dataDir, "ancla.db");
  return [file, `${file}-wal`].filter(existsSync).map((f) => readFileSync(f).toString("latin1")).join("");
}

const create = (body: Record<string, unknown>, key = member.key) => t.req("POST", base, { name: "cluster", target: "kubernetes", kubeconfig: kubeconfig(), ...body }, { key });

describe("kubernetes environment settings", () => {
  test("created from a kubeconfig: server, context, fingerprint and default namespace shown; credentials never", async () => {
    const r = await create({ registry_url: "127.0.0.1:5000", registry_username: "ci", registry_password: REGISTRY_PASSWORD, ingress_class: "nginx" });
    expect(r.status).toBe(201);
    expect(r.body).toMatchObject({
      target: "kubernetes",
      kubeconfig_set: true,
      kubeconfig_server: "https://127.0.0.1:6443",
      context: null,
      namespace: "ancla-acme-web-cluster",
      ingress_class: "nginx",
      ingress_tls_secret: null,
      registry_url: "127.0.0.1:5000",
      registry_username: "ci",
      registry_password_set: true,
    });
    expect(r.body.kubeconfig_fingerprint).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(r.body).not.toHaveProperty("kubeconfig");
    expect(r.body).not.toHaveProperty("registry_password");
    await t.req("GET", `${base}/cluster`, undefined, { key: member.key });
    await t.req("GET", base, undefined, { key: member.key });
    const all = t.bodies.join("\n");
    expect(all).not.toContain(TOKEN);
    expect(all).not.toContain(REGISTRY_PASSWORD);
  });

  test("encrypted at rest: the database file never holds the token, the kubeconfig or the registry password", async () => {
    expect((await create({ registry_url: "registry.example.com/team", registry_username: "ci", registry_password: REGISTRY_PASSWORD })).status).toBe(201);
    const row = t.deps.sqlite.query("select kubeconfig, registry_password from environments where slug = 'cluster'").get() as { kubeconfig: string; registry_password: string };
    expect(row.kubeconfig).toStartWith("enc:v1:");
    expect(row.registry_password).toStartWith("enc:v1:");
    expect(t.deps.secrets.open(row.kubeconfig)).toBe(kubeconfig());
    const bytes = dbBytes();
    expect(bytes).not.toContain(TOKEN);
    expect(bytes).not.toContain(REGISTRY_PASSWORD);
    expect(bytes).not.toContain("current-context");
  });

  test("the cluster token and the registry password are hidden in every log from the moment they are stored", async () => {
    expect(t.deps.redactor.redact(`Authorization: Bearer ${TOKEN}`)).toContain(TOKEN); // unknown until stored
    await create({ registry_url: "127.0.0.1:5000", registry_username: "ci", registry_password: REGISTRY_PASSWORD });
    expect(t.deps.redactor.redact(`Authorization: Bearer ${TOKEN}`)).not.toContain(TOKEN);
    expect(t.deps.redactor.redact(`login ci:${REGISTRY_PASSWORD} failed`)).not.toContain(REGISTRY_PASSWORD);
    await t.req("PATCH", `${base}/cluster`, { kubeconfig: kubeconfig("https://127.0.0.1:6443", "replacement-token-77aa") }, { key: member.key });
    expect(t.deps.redactor.redact("token replacement-token-77aa")).not.toContain("replacement-token-77aa");
  });

  test("a new kubeconfig changes the fingerprint; a context switch picks that context's server", async () => {
    const first = (await create({})).body;
    const other = await t.req("PATCH", `${base}/cluster`, { kubeconfig: kubeconfig("https://127.0.0.1:7443", "another-token") }, { key: member.key });
    expect(other.status).toBe(200);
    expect(other.body.kubeconfig_server).toBe("https://127.0.0.1:7443");
    expect(other.body.kubeconfig_fingerprint).not.toBe(first.kubeconfig_fingerprint);
    const dr = await t.req("PATCH", `${base}/cluster`, { context: "dr" }, { key: member.key });
    expect(dr.body).toMatchObject({ context: "dr", kubeconfig_server: "https://10.20.30.40:6443", kubeconfig_fingerprint: other.body.kubeconfig_fingerprint });
    // a context the stored kubeconfig does not have is refused, and nothing changes
    const before = snapshotDb(t.deps);
    const bad = await t.req("PATCH", `${base}/cluster`, { context: "nope" }, { key: member.key });
    expect(bad.status).toBe(422);
    expect(bad.body.message).toContain("no entry named 'nope'");
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("rotate-master-key reseals the kubeconfig and the registry password", async () => {
    await create({ registry_url: "127.0.0.1:5000", registry_username: "ci", registry_password: REGISTRY_PASSWORD });
    const before = t.deps.sqlite.query("select kubeconfig, registry_password from environments where slug = 'cluster'").get() as Record<string, string>;
    const result = rotateMasterKey(t.deps);
    expect(result.unreadable).toBe(0);
    const after = t.deps.sqlite.query("select kubeconfig, registry_password from environments where slug = 'cluster'").get() as Record<string, string>;
    expect(after.kubeconfig).not.toBe(before.kubeconfig);
    const next = createSecrets(readKeyFile(result.keyFile)!);
    expect(next.open(after.kubeconfig!)).toBe(kubeconfig());
    expect(next.open(after.registry_password!)).toBe(REGISTRY_PASSWORD);
  });

  test("a kubeconfig stored as plain text before sealing is sealed on start, with its server and the default namespace", async () => {
    await t.req("POST", base, { name: "legacy" }, { key: member.key });
    t.deps.sqlite.query("update environments set target = 'kubernetes', kubeconfig = ?, namespace = null where slug = 'legacy'").run(kubeconfig());
    expect(sealPlaintextKubeconfigs(t.deps.sqlite, t.deps.secrets)).toBe(1);
    expect(sealPlaintextKubeconfigs(t.deps.sqlite, t.deps.secrets)).toBe(0); // idempotent
    const g = await t.req("GET", `${base}/legacy`, undefined, { key: member.key });
    expect(g.body).toMatchObject({ kubeconfig_set: true, kubeconfig_server: "https://127.0.0.1:6443", namespace: "ancla-acme-web-legacy" });
    expect(dbBytes()).not.toContain(TOKEN);
  });

  test("bad settings are 422s with the field named, and change nothing", async () => {
    await create({});
    const before = snapshotDb(t.deps);
    const exec = kubeconfig().replace(`user: { token: "${TOKEN}" }`, "user: { exec: { command: aws, args: [eks, get-token] } }");
    const fileRef = kubeconfig().replace(`user: { token: "${TOKEN}" }`, "user: { client-certificate: /etc/ssl/private/key.pem, client-key: /root/k }");
    const cases: [Record<string, unknown>, string][] = [
      [{ kubeconfig: exec }, "not supported; use a token or client certificate"],
      [{ kubeconfig: fileRef }, "refers to a file"],
      [{ kubeconfig: "/home/me/.kube/config" }, "kubeconfig"],
      [{ kubeconfig: "a".repeat(256 * 1024 + 1) }, "256 KiB"],
      [{ context: "missing" }, "no entry named 'missing'"],
      [{ context: "bad\u0000ctx" }, "control characters"],
      [{ namespace: "Not_A_Namespace" }, "namespace"],
      [{ ingress_class: "Nginx Class" }, "ingress_class"],
      [{ ingress_tls_secret: "../secret" }, "ingress_tls_secret"],
      [{ registry_url: "https://registry.example.com" }, "without a scheme"],
      [{ registry_url: "registry.example.com/../x" }, "registry_url"],
      [{ registry_url: "reg istry" }, "registry_url"],
      [{ registry_username: "ci" }, "together"],
      [{ registry_password: "only-a-password" }, "together"],
      [{ registry_username: "a:b", registry_password: "x" }, "registry_username"],
      [{ target: "kubernetes", kubeconfig: null }, "is required when target is kubernetes"],
    ];
    for (const [body, message] of cases) {
      const r = await t.req("PATCH", `${base}/cluster`, body, { key: member.key });
      expect([body, r.status]).toEqual([body, 422]);
      expect(r.body.message).toContain(message);
      const c = await t.req("POST", base, { name: "second", target: "kubernetes", kubeconfig: kubeconfig(), ...body }, { key: member.key });
      expect([body, c.status]).toEqual([body, 422]);
    }
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("other organizations get 404 for the environment, its settings and its check", async () => {
    await create({});
    expect((await t.req("GET", `${base}/cluster`, undefined, { key: outsider.key })).status).toBe(404);
    expect((await t.req("PATCH", `${base}/cluster`, { registry_url: "evil.example.com" }, { key: outsider.key })).status).toBe(404);
    expect((await t.req("POST", `${base}/cluster/check`, undefined, { key: outsider.key })).status).toBe(404);
    expect((await t.req("POST", `${base}/cluster/check`)).status).toBe(401);
    expect((await t.req("GET", `${base}/cluster`, undefined, { key: owner.key })).body.registry_url).toBeNull();
  });

  test("check: an unreachable API server and a missing registry are named, the rest is not claimed", async () => {
    const port = await closedPort();
    await create({ kubeconfig: kubeconfig(`https://127.0.0.1:${port}`) });
    const r = await t.req("POST", `${base}/cluster/check`, undefined, { key: owner.key });
    expect(r.status).toBe(200);
    expect(r.body.ok).toBe(false);
    expect(r.body.target).toBe("kubernetes");
    const by = Object.fromEntries(r.body.checks.map((c: { name: string }) => [c.name, c]));
    expect(by.api_server).toMatchObject({ ok: false });
    expect(by.api_server.message).toContain("cannot reach the API server");
    expect(by.namespace).toMatchObject({ ok: false, message: "not checked: the API server is not reachable" });
    expect(by.registry).toMatchObject({ ok: false });
    expect(by.registry.message).toContain("no registry_url set");
    expect(r.text).not.toContain(TOKEN);
  });
});

describe("who may point an environment somewhere", () => {
  test("check connects to addresses from the settings: org admins only, a member gets 403 and nothing is contacted", async () => {
    let hits = 0;
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => (hits++, new Response("internal secret page", { status: 500 })) });
    try {
      expect((await create({ kubeconfig: kubeconfig(`http://127.0.0.1:${probe.port}`), registry_url: `127.0.0.1:${probe.port}` })).status).toBe(201);
      const r = await t.req("POST", `${base}/cluster/check`, undefined, { key: member.key });
      expect(r.status).toBe(403);
      expect(r.body.message).toContain("organization admins");
      expect(hits).toBe(0);
      const admin = await t.req("POST", `${base}/cluster/check`, undefined, { key: owner.key });
      expect(admin.status).toBe(200);
      expect(hits).toBeGreaterThan(0);
      // what the host answered stays out of the messages: only status codes and Kubernetes Status text
      expect(admin.text).not.toContain("internal secret page");
    } finally {
      probe.stop(true);
    }
  });

  test("a protected environment's settings are an org admin's: a member's change is 403 and changes nothing", async () => {
    expect((await create({ protected: true }, owner.key)).status).toBe(201);
    const before = snapshotDb(t.deps);
    const changes: Record<string, unknown>[] = [
      { kubeconfig: kubeconfig("https://203.0.113.9:6443") },
      { context: "dr" },
      { namespace: "elsewhere" },
      { registry_url: "evil.example.com", registry_username: "x", registry_password: "y" },
      { target: "docker" },
      { auto_deploy_branch: "member-branch" },
      { ingress_class: "other" },
      { slug: "renamed" },
    ];
    for (const body of changes) {
      const r = await t.req("PATCH", `${base}/cluster`, body, { key: member.key });
      expect({ body, status: r.status }).toEqual({ body, status: 403 });
      expect(r.body.message).toContain("protected");
    }
    expect(snapshotDb(t.deps)).toBe(before);
    expect((await t.req("GET", `${base}/cluster`, undefined, { key: member.key })).status).toBe(200);
    const admin = await t.req("PATCH", `${base}/cluster`, { registry_url: "registry.example.com", context: "dr" }, { key: owner.key });
    expect(admin.status).toBe(200);
    expect(admin.body).toMatchObject({ registry_url: "registry.example.com", kubeconfig_server: "https://10.20.30.40:6443" });
    // an unprotected environment stays the members'
    expect((await create({ name: "scratch" })).status).toBe(201);
    expect((await t.req("PATCH", `${base}/scratch`, { registry_url: "registry.example.com" }, { key: member.key })).status).toBe(200);
  });
});

describe("namespaces on a shared cluster", () => {
  test("two organizations' environments never share a namespace of one cluster: the default is told apart, a chosen one is 409", async () => {
    // acme/web/cluster-x and acme-web/cluster/x both default to ancla-acme-web-cluster-x
    expect((await create({ name: "cluster-x" })).body.namespace).toBe("ancla-acme-web-cluster-x");
    const o = outsider.key;
    expect((await t.req("POST", "/api/v1/organizations", { name: "Acme Web", slug: "acme-web" }, { key: o })).status).toBe(201);
    expect((await t.req("POST", "/api/v1/projects/acme-web", { name: "Cluster" }, { key: o })).status).toBe(201);
    const other = "/api/v1/orgs/acme-web/projects/cluster/envs";
    const x = await t.req("POST", other, { name: "x", target: "kubernetes", kubeconfig: kubeconfig() }, { key: o });
    expect(x.status).toBe(201);
    expect(x.body.namespace).not.toBe("ancla-acme-web-cluster-x");
    expect(x.body.namespace).toMatch(/^ancla-acme-web-cluster-x-[0-9a-f]{8}$/);
    const before = snapshotDb(t.deps);
    const taken = await t.req("POST", other, { name: "y", target: "kubernetes", kubeconfig: kubeconfig(), namespace: "ancla-acme-web-cluster-x" }, { key: o });
    expect(taken.status).toBe(409);
    expect(taken.body.message).toContain("already used by another environment");
    expect((await t.req("PATCH", `${other}/x`, { namespace: "ancla-acme-web-cluster-x" }, { key: o })).status).toBe(409);
    expect(snapshotDb(t.deps)).toBe(before);
    // another cluster's namespace of that name is free
    expect((await t.req("POST", other, { name: "y", target: "kubernetes", kubeconfig: kubeconfig("https://198.51.100.7:6443"), namespace: "ancla-acme-web-cluster-x" }, { key: o })).status).toBe(201);
    // ...until that environment is pointed at the first cluster
    expect((await t.req("PATCH", `${other}/y`, { kubeconfig: kubeconfig() }, { key: o })).status).toBe(409);
  });
});

async function closedPort(): Promise<number> {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = s.port!;
  s.stop(true);
  return port;
}
