// Zero failed HTTPS requests while the app is redeployed and while the router swaps its
// certificate set (a custom domain added mid-load gets a certificate from Pebble, which rebinds the
// HTTPS listener): the in-process server with --https against Pebble + challtestsrv, acme-client
// trusting Pebble's listener through its own HTTPS agent (NODE_EXTRA_CA_CERTS is read at process
// start, so it cannot reach an in-process server).
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { readFileSync } from "node:fs";
import { Agent } from "node:https";
import * as acme from "acme-client";
import { deployHarness, type DeployHarness } from "../fixtures/webapp/support";
import { freePort } from "../support/raw-http";
import { startPebble, type Pebble } from "../support/pebble";

setDefaultTimeout(300_000);

let h: DeployHarness;
let pebble: Pebble;
let appId: string;
let httpsPort: number;
let root: string;

async function certificate(hostname: string) {
  for (let i = 0; i < 240; i++) {
    const r = await h.t.req("GET", `${h.base()}/app/domains`, undefined, { key: h.key });
    const c = r.body.domains.find((d: { hostname: string }) => d.hostname === hostname)?.certificate;
    if (c && c.status !== "pending") return c;
    await Bun.sleep(250);
  }
  throw new Error(`no certificate for ${hostname}`);
}

beforeAll(async () => {
  const routerPort = freePort();
  httpsPort = freePort();
  pebble = await startPebble(routerPort);
  acme.axios.defaults.httpsAgent = new Agent({ ca: readFileSync(pebble.listenerCaFile) });
  h = await deployHarness("hr", {
    router: `127.0.0.1:${routerPort}`,
    https: `127.0.0.1:${httpsPort}`,
    domain: "apps.test",
    acmeEmail: "ops@apps.test",
    acmeDirectory: pebble.directory,
    dnsServer: pebble.dnsServer,
  });
  appId = await h.service("app", { process_counts: { web: 2 } });
  await h.setVar("app", "GREETING", "v-1");
  await h.build("app");
  expect((await h.deploy((await h.release(appId)).release_id)).status).toBe("complete");
  // running replicas: the certificate is requested without waiting for a visitor
  expect((await certificate(h.host("app"))).status).toBe("issued");
  root = await pebble.root();
});

afterAll(async () => {
  await h?.close();
  await pebble?.stop();
});

test("zero failed HTTPS requests across two redeploys and a certificate swap under continuous load", async () => {
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const seen = new Set<string>();
  const client = async () => {
    for (let i = 0; i < 4000 && !stop; i++) {
      try {
        const res = await fetch(`https://127.0.0.1:${httpsPort}/cgi-bin/env`, { headers: { host: h.host("app") }, tls: { ca: root, serverName: h.host("app") } } as RequestInit);
        const text = await res.text();
        if (res.status !== 200) failures.push(`${res.status} ${text.slice(0, 80)}`);
        else {
          ok++;
          seen.add(/^GREETING=(.*)$/m.exec(text)?.[1] ?? "?");
        }
      } catch (e) {
        failures.push((e as Error).message);
      }
    }
  };
  const clients = [client(), client(), client()];
  // a new name: its certificate makes the router serve a new set (a listener swap) under load
  expect((await h.t.req("PATCH", `${h.base()}/app`, { domains: ["shop.custom.test"] }, { key: h.key })).status).toBe(200);
  await fetch(`http://127.0.0.1:${h.router.port}/`, { headers: { host: "shop.custom.test" }, redirect: "manual" }).catch(() => undefined);
  for (const value of ["v-2", "v-3"]) {
    await h.setVar("app", "GREETING", value);
    expect((await h.deploy((await h.release(appId)).release_id)).status).toBe("complete");
  }
  expect((await certificate("shop.custom.test")).status).toBe("issued");
  await Bun.sleep(300);
  stop = true;
  await Promise.all(clients);
  expect(failures).toEqual([]);
  expect(ok).toBeGreaterThan(50);
  expect([...seen].sort()).toEqual(["v-1", "v-2", "v-3"]);
});
