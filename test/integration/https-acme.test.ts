// Automatic HTTPS against a real ACME CA: Pebble (+ pebble-challtestsrv as its DNS) as child
// processes, and a live `ancla serve --https … --acme-directory <pebble>` that trusts Pebble's
// listener through NODE_EXTRA_CA_CERTS. Certificates for a generated hostname and a custom domain
// (issued on the first request, HTTP-01 answered by the router), HTTPS by SNI verified against
// Pebble's root, the redirect, renewal when the stored expiry is forced near, and two failure
// paths (challenge unreachable; custom domain pointing elsewhere) reported on the service.
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { Database } from "bun:sqlite";
import { connect as tlsConnect } from "node:tls";
import { join } from "node:path";
import { ancla, startLiveServer, type LiveServer } from "../support/server";
import { freePort } from "../support/raw-http";
import { startPebble, type Pebble } from "../support/pebble";
import { rejectionOf } from "../support/settle";

setDefaultTimeout(300_000);

const DOMAIN = "apps.test";
let pebble: Pebble;
let server: LiveServer;
let routerPort: number;
let httpsPort: number;
const org = `tls${Date.now().toString(36)}`;

const api = async (method: string, path: string, body?: unknown) => {
  const res = await fetch(`${server.url}${path}`, { method, headers: { "x-api-key": server.adminKey, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: res.status, body: (await res.json().catch(() => null)) as any };
};
const svcPath = (svc: string) => `/api/v1/orgs/${org}/projects/web/envs/production/services/${svc}`;
const host = (svc: string) => `${svc}.production.web.${org}.${DOMAIN}`;
const viaRouter = (hostname: string, path = "/") => fetch(`http://127.0.0.1:${routerPort}${path}`, { headers: { host: hostname }, redirect: "manual" });

/** Waits until the service's certificate for `hostname` leaves `pending`. */
async function certificateOf(svc: string, hostname: string, until: (c: any) => boolean = (c) => c?.status !== "pending", timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const r = await api("GET", `${svcPath(svc)}/domains`);
    expect(r.status).toBe(200);
    const d = r.body.domains.find((x: any) => x.hostname === hostname);
    if (until(d?.certificate) || Date.now() > deadline) return d;
    await Bun.sleep(250);
  }
}

/** The certificate the HTTPS port presents for `servername`, verified against Pebble's root. */
function presented(servername: string, ca: string): Promise<{ serial: string; validTo: string; subject: string }> {
  return new Promise((resolve, reject) => {
    const s = tlsConnect({ host: "127.0.0.1", port: httpsPort, servername, ca, rejectUnauthorized: true }, () => {
      const c = s.getPeerCertificate();
      resolve({ serial: c.serialNumber, validTo: c.valid_to, subject: String(c.subjectaltname ?? "") });
      s.end();
    });
    s.on("error", reject);
  });
}

beforeAll(async () => {
  routerPort = freePort();
  httpsPort = freePort();
  pebble = await startPebble(routerPort);
  server = await startLiveServer({
    args: ["--router", `127.0.0.1:${routerPort}`, "--https", `127.0.0.1:${httpsPort}`, "--domain", DOMAIN, "--acme-email", "ops@apps.test", "--acme-directory", pebble.directory, "--dns-server", pebble.dnsServer],
    env: { NODE_EXTRA_CA_CERTS: pebble.listenerCaFile },
  });
  expect((await api("POST", "/api/v1/organizations", { name: org, slug: org })).status).toBe(201);
  expect((await api("POST", `/api/v1/orgs/${org}/projects`, { name: "Web", slug: "web" })).status).toBe(201);
});

afterAll(async () => {
  await server?.stop();
  await pebble?.stop();
});

test("a generated hostname and a custom domain get certificates on their first request; HTTPS serves them by SNI", async () => {
  const created = await api("POST", svcPath("").slice(0, -1), { name: "shop", domains: ["shop.custom.test"] });
  expect(created.status).toBe(201);
  expect(created.body.https_redirect).toBe(true);
  expect(created.body.hsts).toBe(false);
  // the first plain-HTTP request asks for the certificates (nothing is deployed: 503 meanwhile)
  expect((await viaRouter(host("shop"))).status).toBe(503);
  expect((await viaRouter("shop.custom.test")).status).toBe(503);
  const generated = await certificateOf("shop", host("shop"));
  expect(generated.certificate.status).toBe("issued");
  expect(Date.parse(generated.certificate.expires_at)).toBeGreaterThan(Date.now() + 30 * 86400_000);
  expect(generated.kind).toBe("generated");
  expect(generated.url).toBe(`https://${host("shop")}:${httpsPort}`);
  const custom = await certificateOf("shop", "shop.custom.test");
  expect(custom.certificate).toMatchObject({ status: "issued", error: null });
  expect(custom.kind).toBe("custom");

  const root = await pebble.root();
  const a = await presented(host("shop"), root);
  expect(a.subject).toContain(`DNS:${host("shop")}`);
  const b = await presented("shop.custom.test", root);
  expect(b.subject).toContain("DNS:shop.custom.test");
  expect(a.serial).not.toBe(b.serial);
  // a name without a certificate gets the self-signed default, which Pebble's root does not vouch for
  await rejectionOf(presented("unknown.example", root));

  // over HTTPS the router answers (503: nothing deployed) with X-Forwarded-Proto https behind it
  const res = await fetch(`https://127.0.0.1:${httpsPort}/`, { headers: { host: host("shop") }, tls: { ca: root, serverName: host("shop") } } as RequestInit);
  expect(res.status).toBe(503);
  // plain HTTP for a name with a certificate: 308 to https, the path kept
  const redirect = await viaRouter(host("shop"), "/a/b?c=1");
  expect(redirect.status).toBe(308);
  expect(redirect.headers.get("location")).toBe(`https://${host("shop")}:${httpsPort}/a/b?c=1`);
  // the detail carries the same state; neither it nor the domains list carries key material
  const detail = await api("GET", svcPath("shop"));
  expect(detail.body.certificates.map((c: any) => c.certificate?.status)).toEqual(["issued", "pending", "issued"]);
  const everything = JSON.stringify(detail.body) + JSON.stringify((await api("GET", `${svcPath("shop")}/domains`)).body);
  expect(everything).not.toContain("BEGIN");
  expect(server.output()).not.toContain("PRIVATE KEY");

  // the CLI shows the same
  const cli = await ancla(["domains", `${org}/web/production/shop`], { home: server.home, env: { ANCLA_SERVER: server.url, ANCLA_API_KEY: server.adminKey } });
  expect(cli.code).toBe(0);
  expect(cli.stdout).toMatch(new RegExp(`${host("shop").replace(/\./g, "\\.")}\\s+generated\\s+issued\\s+20\\d\\d-`));
  expect(cli.stdout).toMatch(/shop\.custom\.test\s+custom\s+issued/);

  // https_redirect off: plain HTTP is served again
  expect((await api("PATCH", svcPath("shop"), { https_redirect: false, hsts: true })).status).toBe(200);
  for (let i = 0; i < 60 && (await viaRouter(host("shop"))).status === 308; i++) await Bun.sleep(250);
  expect((await viaRouter(host("shop"))).status).toBe(503);
});

test("renewal: a certificate whose stored expiry is forced within 30 days is replaced without a restart", async () => {
  const root = await pebble.root();
  const before = await presented(host("shop"), root);
  const db = new Database(join(server.dataDir, "ancla.db"));
  try {
    db.run("update certificates set not_after = ? where hostname = ?", [new Date(Date.now() + 86400_000).toISOString(), host("shop")]);
  } finally {
    db.close();
  }
  let after = before;
  for (let i = 0; i < 120 && after.serial === before.serial; i++) {
    await Bun.sleep(250);
    after = await presented(host("shop"), root);
  }
  expect(after.serial).not.toBe(before.serial);
  const d = await certificateOf("shop", host("shop"), (c) => Date.parse(c?.expires_at) > Date.now() + 30 * 86400_000);
  expect(d.certificate.status).toBe("issued");
});

test("failures are reported on the service: an unreachable challenge (the CA's error) and a custom domain that points elsewhere", async () => {
  // Pebble will look for the challenge at 127.0.0.2, where nothing listens
  await pebble.setA(host("broken"), "127.0.0.2");
  await pebble.setA("elsewhere.custom.test", "127.0.0.2");
  expect((await api("POST", svcPath("").slice(0, -1), { name: "broken", domains: ["elsewhere.custom.test"] })).status).toBe(201);
  await viaRouter(host("broken"));
  await viaRouter("elsewhere.custom.test");
  const unreachable = await certificateOf("broken", host("broken"));
  expect(unreachable.certificate.status).toBe("failed");
  expect(unreachable.certificate.error).toMatch(/connect|refused|127\.0\.0\.2/i);
  expect(Date.parse(unreachable.certificate.next_attempt_at)).toBeGreaterThan(Date.now());
  const elsewhere = await certificateOf("broken", "elsewhere.custom.test");
  expect(elsewhere.certificate.status).toBe("failed");
  expect(elsewhere.certificate.error).toContain("resolves to 127.0.0.2, which is not this server");
  // no redirect for names without a certificate
  expect((await viaRouter(host("broken"))).status).toBe(503);
});

test("a released custom domain and a deleted service's name leave the SNI set; a name given back serves its stored certificate again", async () => {
  const root = await pebble.root();
  const served = async (name: string) => presented(name, root).then((c) => c.serial, () => null);
  const until = async (name: string, ok: (serial: string | null) => boolean) => {
    let s = await served(name);
    for (let i = 0; i < 120 && !ok(s); i++) {
      await Bun.sleep(250);
      s = await served(name);
    }
    return s;
  };
  const before = await until("shop.custom.test", (s) => s !== null);
  expect(before).not.toBeNull();
  // released: the name falls back to the self-signed default, which Pebble's root does not vouch for
  expect((await api("PATCH", svcPath("shop"), { domains: [] })).status).toBe(200);
  expect(await until("shop.custom.test", (s) => s === null)).toBeNull();
  // the other name of the service is still served
  expect(await served(host("shop"))).not.toBeNull();
  // given back: the stored certificate (same serial), not a new request to the CA
  expect((await api("PATCH", svcPath("shop"), { domains: ["shop.custom.test"] })).status).toBe(200);
  await viaRouter("shop.custom.test");
  expect(await until("shop.custom.test", (s) => s !== null)).toBe(before);
  // the service deleted: none of its names is served with its certificate any more
  expect((await api("DELETE", svcPath("shop"))).status).toBeLessThan(300);
  expect(await until(host("shop"), (s) => s === null)).toBeNull();
  expect(await until("shop.custom.test", (s) => s === null)).toBeNull();
});
