// The registry token server's answers (issue 13), in process: what a token grants (the JWT's
// claims, verified with the published certificate), who gets nothing, how the signing key is kept.
// The real registry and Docker CLI run in test/integration/registry-token.test.ts.
import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { createVerify, X509Certificate } from "node:crypto";
import { orgsWorld, testApp, type OrgsWorld, type TestApp } from "../support/app";
import { createApiKey } from "../../src/modules/keys/service";
import { referenceProblems } from "../support/reference-schema";

setDefaultTimeout(180_000);

let t: TestApp;
let w: OrgsWorld;
beforeEach(async () => {
  t = await testApp();
  w = await orgsWorld(t, { root: true });
});
afterEach(() => t.close());

const basic = (u: string, p: string) => "Basic " + Buffer.from(`${u}:${p}`).toString("base64");
const tokenFor = (user: string, key: string, query: string) => t.req("GET", `/api/v1/integrations/docker/auth?service=registry.test&${query}`, undefined, { headers: { authorization: basic(user, key) } });

async function verified(token: string) {
  const [h, c, s] = token.split(".");
  const header = JSON.parse(Buffer.from(h!, "base64url").toString());
  const cert = new X509Certificate((await t.req("GET", "/api/v1/integrations/signing-cert")).body.certificate);
  expect(header.alg).toBe("ES256");
  expect(Buffer.from(header.x5c[0], "base64").equals(cert.raw)).toBe(true);
  const ok = createVerify("SHA256").update(`${h}.${c}`).verify({ key: cert.publicKey, dsaEncoding: "ieee-p1363" }, Buffer.from(s!, "base64url"));
  expect(ok).toBe(true);
  return JSON.parse(Buffer.from(c!, "base64url").toString());
}

describe("GET /integrations/docker/auth", () => {
  test("a member gets pull+push on the org's repositories and nothing on another org's; admins may delete", async () => {
    const r = await tokenFor("member", w.member.key, "scope=repository:acme/app:pull,push,delete&scope=repository:other/app:pull&account=member");
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ token: expect.any(String), access_token: r.body.token, expires_in: 300, issued_at: expect.any(String) });
    const claims = await verified(r.body.token);
    expect(claims).toMatchObject({ iss: "ancla", sub: "member", aud: "registry.test", access: [{ type: "repository", name: "acme/app", actions: ["pull", "push"] }] });
    expect(claims.exp - claims.iat).toBe(300);
    const admin = await verified((await tokenFor("owner", w.owner.key, "scope=repository:acme/app:*")).body.token);
    expect(admin.access).toEqual([{ type: "repository", name: "acme/app", actions: ["pull", "push", "delete"] }]);
  });

  test("the catalog is for server admins only; malformed repository names get nothing", async () => {
    expect((await verified((await tokenFor("member", w.member.key, "scope=registry:catalog:*")).body.token)).access).toEqual([]);
    expect((await verified((await tokenFor("root", w.root!.key, "scope=registry:catalog:*")).body.token)).access).toEqual([{ type: "registry", name: "catalog", actions: ["*"] }]);
    expect((await verified((await tokenFor("owner", w.owner.key, "scope=repository:acme/../x:pull&scope=repository:acme:pull")).body.token)).access).toEqual([]);
  });

  test("no credentials, a wrong key, a key of another user, an expired key → 401; no service → 400", async () => {
    expect((await t.req("GET", "/api/v1/integrations/docker/auth?service=registry.test")).status).toBe(401);
    expect((await tokenFor("member", "ancla_" + "x".repeat(40), "")).status).toBe(401);
    expect((await tokenFor("owner", w.member.key, "")).status).toBe(401);
    const expired = createApiKey(t.deps, w.member.id, { name: "old", expires_at: new Date(Date.now() + 1000).toISOString() } as never);
    t.deps.clock = { now: () => new Date(Date.now() + 60_000) };
    expect((await tokenFor("member", expired.key, "")).status).toBe(401);
    t.deps.clock = { now: () => new Date() };
    expect((await t.req("GET", "/api/v1/integrations/docker/auth", undefined, { headers: { authorization: basic("member", w.member.key) } })).status).toBe(400);
    expect((await tokenFor("member", w.member.key, "scope=nonsense")).status).toBe(400);
  });

  test("POST: the OAuth2 password grant form gives the same token", async () => {
    const form = new URLSearchParams({ grant_type: "password", username: "member", password: w.member.key, service: "registry.test", scope: "repository:acme/app:pull", client_id: "docker" });
    const r = await t.req("POST", "/api/v1/integrations/docker/auth", undefined, { raw: form.toString(), headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(r.status).toBe(201);
    expect((await verified(r.body.access_token)).access).toEqual([{ type: "repository", name: "acme/app", actions: ["pull"] }]);
    const refresh = new URLSearchParams({ grant_type: "refresh_token", refresh_token: "x", service: "registry.test" });
    expect((await t.req("POST", "/api/v1/integrations/docker/auth", undefined, { raw: refresh.toString(), headers: { "content-type": "application/x-www-form-urlencoded" } })).status).toBe(400);
  });
});

describe("the signing key", () => {
  test("is made once, stored sealed, and the certificate stays the same", async () => {
    const first = (await t.req("GET", "/api/v1/integrations/signing-cert")).body;
    expect(referenceProblems("SigningCertResponse", first)).toEqual([]);
    expect(first).toEqual({ certificate: expect.stringMatching(/^-----BEGIN CERTIFICATE-----/) });
    expect((await t.req("GET", "/api/v1/integrations/signing-cert")).body).toEqual(first);
    const rows = t.deps.sqlite.query("select private_key, certificate from registry_signing_keys").all() as { private_key: string; certificate: string }[];
    expect(rows.length).toBe(1);
    expect(rows[0]!.private_key).toStartWith("enc:v1:");
    expect(rows[0]!.private_key).not.toContain("PRIVATE KEY");
    for (const body of t.bodies) expect(body).not.toContain("PRIVATE KEY");
  });
});
