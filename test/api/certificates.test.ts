// HTTPS settings and certificate status in the API (no CA here; see the Pebble integration test):
// which names get certificates, the domains route and the detail's `certificates` with and
// without --https, https_redirect/hsts validation and defaults, sealed storage that never reaches
// a response, the router's per-service policies, and --https without --acme-email refused.
import { afterEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { testApp, type TestApp } from "../support/app";
import { needsCertificate } from "../../src/modules/certificates/names";
import * as repo from "../../src/modules/certificates/repo";
import { createCertificateManager } from "../../src/modules/certificates/manager";
import { refreshHosts } from "../../src/modules/deployments/routing";
import { routeTableOf } from "../../src/router/table";
import { rejectionOf } from "../support/settle";

setDefaultTimeout(180_000);

let t: TestApp | undefined;
let key: string;
const base = "/api/v1/orgs/acme/projects/web/envs/production/services";

async function setup(config: Record<string, unknown> = {}) {
  t = await testApp(config);
  key = (await t.user("owner")).key;
  await t.req("POST", "/api/v1/organizations", { name: "Acme" }, { key });
  await t.req("POST", "/api/v1/projects/acme", { name: "Web" }, { key });
  expect((await t.req("POST", base, { name: "api", domains: ["api.example.org"] }, { key })).status).toBe(201);
  return t;
}
afterEach(() => {
  t?.close();
  t = undefined;
});

test("certificates: custom domains and generated names under a real domain, never *.localhost", () => {
  expect(needsCertificate("api.production.web.acme.apps.example.com", "apps.example.com")).toBe(true);
  expect(needsCertificate("api.production.web.acme.localhost", "localhost")).toBe(false);
  expect(needsCertificate("api.example.org", "localhost")).toBe(true);
  expect(needsCertificate("dev.localhost", "apps.example.com")).toBe(false);
  expect(needsCertificate("x.apps.dev.localhost", "apps.dev.localhost")).toBe(false);
});

describe("without --https", () => {
  test("the domains route lists every hostname with plain-HTTP URLs and no certificate", async () => {
    const app = await setup();
    const r = await app.req("GET", `${base}/api/domains`, undefined, { key });
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      https: false,
      https_redirect: true,
      hsts: false,
      domains: [
        { hostname: "api.production.web.acme.localhost", kind: "generated", url: "http://api.production.web.acme.localhost:8080", certificate: null },
        { hostname: "api.web.acme.localhost", kind: "generated", url: "http://api.web.acme.localhost:8080", certificate: null },
        { hostname: "api.example.org", kind: "custom", url: "http://api.example.org:8080", certificate: null },
      ],
    });
    expect((await app.req("GET", `${base}/nope/domains`, undefined, { key })).status).toBe(404);
    expect((await app.req("GET", `${base}/api/domains`)).status).toBe(401);
  });

  test("https_redirect and hsts: booleans (422 otherwise), null resets to the default; the router gets them", async () => {
    const app = await setup();
    expect((await app.req("PATCH", `${base}/api`, { https_redirect: "yes" }, { key })).status).toBe(422);
    expect((await app.req("PATCH", `${base}/api`, { hsts: 1 }, { key })).status).toBe(422);
    const off = await app.req("PATCH", `${base}/api`, { https_redirect: false, hsts: true }, { key });
    expect(off.status).toBe(200);
    expect(off.body).toMatchObject({ https_redirect: false, hsts: true });
    expect(repo.httpsPolicies(app.deps.db).get(off.body.id)).toEqual({ redirect: false, hsts: true });
    const reset = await app.req("PATCH", `${base}/api`, { https_redirect: null, hsts: null }, { key });
    expect(reset.body).toMatchObject({ https_redirect: true, hsts: false });
  });

  test("--https without --acme-email is refused with a clear message", async () => {
    const app = await setup({ https: "127.0.0.1:0" });
    expect((await rejectionOf(createCertificateManager(app.deps, routeTableOf(app.deps)))).message).toContain("--https needs --acme-email");
  });
});

describe("with --https", () => {
  test("pending until issued; an issued certificate shows its expiry and https URL, sealed in the database and absent from responses", async () => {
    const app = await setup({ https: "127.0.0.1:443", acmeEmail: "ops@example.org", domain: "apps.example.com" });
    const pending = await app.req("GET", `${base}/api/domains`, undefined, { key });
    expect(pending.body.https).toBe(true);
    expect(pending.body.domains.map((d: { certificate: { status: string } }) => d.certificate.status)).toEqual(["pending", "pending", "pending"]);
    const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
    const KEY = "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n";
    const now = new Date().toISOString();
    const expires = new Date(Date.now() + 90 * 86400_000).toISOString();
    repo.saveCertificate(app.deps.db, { hostname: "api.example.org", status: "issued", certSealed: app.deps.secrets.seal(PEM), keySealed: app.deps.secrets.seal(KEY), notBefore: now, notAfter: expires, updatedAt: now });
    repo.saveCertificate(app.deps.db, { hostname: "api.web.acme.apps.example.com", status: "failed", error: "urn:ietf:params:acme:error:connection :: Connection refused", failures: 1, nextAttemptAt: expires, updatedAt: now });
    const detail = await app.req("GET", `${base}/api`, undefined, { key });
    const byHost = Object.fromEntries(detail.body.certificates.map((d: { hostname: string }) => [d.hostname, d]));
    expect(byHost["api.example.org"]).toMatchObject({ kind: "custom", url: "https://api.example.org", certificate: { status: "issued", expires_at: expires, error: null } });
    expect(byHost["api.web.acme.apps.example.com"].certificate).toMatchObject({ status: "failed", error: expect.stringContaining("Connection refused"), next_attempt_at: expires });
    expect(byHost["api.production.web.acme.apps.example.com"].certificate.status).toBe("pending");
    const stored = app.deps.sqlite.query("select cert_sealed, key_sealed from certificates where hostname = 'api.example.org'").get() as { cert_sealed: string; key_sealed: string };
    expect(stored.cert_sealed.startsWith("enc:v1:")).toBe(true);
    expect(stored.key_sealed.startsWith("enc:v1:")).toBe(true);
    expect(app.bodies.join("\n")).not.toContain("BEGIN");
  });

  test("the manager's tick hands the router every service's policy; unknown services default to redirect without HSTS", async () => {
    const app = await setup({ https: "127.0.0.1:443", acmeEmail: "ops@example.org", domain: "apps.example.com" });
    const id = (await app.req("PATCH", `${base}/api`, { https_redirect: false, hsts: true }, { key })).body.id;
    refreshHosts(app.deps);
    const table = routeTableOf(app.deps);
    expect(table.httpsPolicy("not-a-service")).toEqual({ redirect: true, hsts: false });
    const certs = await createCertificateManager(app.deps, table);
    certs.tick(); // nothing runs: no replicas, so nothing is requested eagerly
    expect(table.httpsPolicy(id)).toEqual({ redirect: false, hsts: true });
    expect(certs.certificates().length).toBe(1); // the self-signed default only
    expect(repo.listCertificates(app.deps.db, ["api.example.org"])).toEqual([]);
  });
});
