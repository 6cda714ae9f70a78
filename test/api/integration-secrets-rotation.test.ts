// rotate-master-key and the integrations' sealed columns (issue 13): the project's webhook secret,
// a deploy key's private half, an HTTPS git token and the registry signing key are re-sealed
// under the new key and still work afterwards; no plaintext is ever stored.
import { afterEach, beforeEach, expect, test, setDefaultTimeout } from "bun:test";
import { createSecrets, masterKeyPath, readKeyFile } from "../../src/lib/crypto";
import { rotateMasterKey } from "../../src/modules/config-vars/rotate";
import { orgsWorld, testApp, type OrgsWorld, type TestApp } from "../support/app";

setDefaultTimeout(180_000);

let t: TestApp;
let w: OrgsWorld;
beforeEach(async () => {
  t = await testApp({ gitAllowHosts: "127.0.0.0/8" });
  w = await orgsWorld(t, { project: true });
});
afterEach(() => t.close());

const sealedColumns = () =>
  t.deps.sqlite
    .query("select (select webhook_secret from project_integrations) as hook, (select deploy_key_private from service_git_credentials) as key, (select https_token from service_git_credentials) as token, (select private_key from registry_signing_keys) as signing")
    .get() as Record<string, string>;

test("every integration secret is re-sealed under the new key", async () => {
  const svc = "/api/v1/orgs/acme/projects/web/envs/production/services/api";
  expect((await t.req("POST", "/api/v1/orgs/acme/projects/web/envs/production/services", { name: "api", git_url: "ssh://git@127.0.0.1:2/x.git" }, { key: w.owner.key })).status).toBe(201);
  const hook = (await t.req("POST", "/api/v1/orgs/acme/projects/web/webhooks/secret", {}, { key: w.owner.key })).body.secret as string;
  expect((await t.req("POST", `${svc}/deploy-key`, undefined, { key: w.owner.key })).status).toBe(201);
  expect((await t.req("POST", `${svc}/git-token`, { token: "ghp_rotation_token_123" }, { key: w.owner.key })).status).toBe(200);
  const cert = (await t.req("GET", "/api/v1/integrations/signing-cert")).body.certificate;
  const before = sealedColumns();
  for (const v of Object.values(before)) expect(v).toStartWith("enc:v1:");
  const old = t.deps.secrets;
  const plain = Object.fromEntries(Object.entries(before).map(([k, v]) => [k, old.open(v)]));
  expect(plain.hook).toBe(hook);
  expect(plain.token).toBe("ghp_rotation_token_123");

  const result = rotateMasterKey(t.deps);
  expect(result.unreadable).toBe(0);
  const after = sealedColumns();
  const next = createSecrets(readKeyFile(masterKeyPath(t.dataDir))!);
  for (const [k, v] of Object.entries(after)) {
    expect(v).not.toBe(before[k]);
    expect(next.open(v)).toBe(plain[k]!);
    expect(() => old.open(v)).toThrow();
  }
  expect((t.deps.sqlite.query("select certificate from registry_signing_keys").get() as { certificate: string }).certificate).toBe(cert);
});
