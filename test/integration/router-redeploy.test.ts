// Zero failed requests through the router while the app is redeployed under continuous load,
// plus the router's answers for hosts it does not know and services with nothing running.
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { deployHarness, type DeployHarness } from "../fixtures/webapp/support";

// Docker builds and rollouts outlast bun's 5 s default; plain `bun test` (README, CI) passes no --timeout
setDefaultTimeout(300_000);

let h: DeployHarness;
let appId: string;

beforeAll(async () => {
  h = await deployHarness("rr");
  appId = await h.service("app", { process_counts: { web: 2 } });
  await h.setVar("app", "GREETING", "v-1");
  await h.build("app");
  const d = await h.deploy((await h.release(appId)).release_id);
  expect(d.status).toBe("complete");
});

afterAll(async () => {
  await h?.close();
});

test("unknown host → 404 page; a service with nothing deployed → 503 page", async () => {
  const unknown = await h.get("nope.example.com");
  expect(unknown.status).toBe(404);
  expect(unknown.text).toContain("No application is served at this hostname");
  await h.service("idle");
  await Bun.sleep(1100); // unknown hosts reload the host map at most once a second
  const idle = await h.get(h.host("idle"));
  expect(idle.status).toBe(503);
  expect(idle.text).toContain("No healthy replica");
});

test("zero failed requests through the router across two redeploys under continuous load", async () => {
  let stop = false;
  let ok = 0;
  const failures: string[] = [];
  const seen = new Set<string>();
  const client = async () => {
    // bounded: stops when the redeploys are done, or after 4000 requests per client
    for (let i = 0; i < 4000 && !stop; i++) {
      try {
        const res = await fetch(`${h.router.url}/cgi-bin/env`, { headers: { host: h.host("app") } });
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
  for (const value of ["v-2", "v-3"]) {
    await h.setVar("app", "GREETING", value);
    const d = await h.deploy((await h.release(appId)).release_id);
    expect(d.status).toBe("complete");
  }
  await Bun.sleep(300);
  stop = true;
  await Promise.all(clients);
  expect(failures).toEqual([]);
  expect(ok).toBeGreaterThan(50);
  expect([...seen].sort()).toEqual(["v-1", "v-2", "v-3"]);
});

test("a custom domain routes to the service; deleting the service removes its containers and its hostnames", async () => {
  const domain = `shop-${h.org}.example.test`;
  const patched = await h.t.req("PATCH", `${h.base()}/app`, { domains: [domain] }, { key: h.key });
  expect(patched.status).toBe(200);
  await Bun.sleep(1100); // unknown hosts reload the host map at most once a second
  const viaDomain = await h.get(`${domain.toUpperCase()}:80`, "/cgi-bin/env");
  expect(viaDomain.status).toBe(200);
  expect(viaDomain.text).toContain("GREETING=v-3");

  expect((await h.t.req("DELETE", `${h.base()}/app`, undefined, { key: h.key })).status).toBe(200);
  const { testDocker } = await import("../support/docker");
  for (let i = 0; i < 100; i++) {
    const left = await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.service-id=${appId}`] } });
    if (left.length === 0) break;
    await Bun.sleep(100);
  }
  expect((await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.service-id=${appId}`] } })).length).toBe(0);
  await Bun.sleep(1100);
  expect((await h.get(domain)).status).toBe(404);
  expect((await h.get(h.host("app"))).status).toBe(404);
});

test("the health gate sends health_check_host: a check that needs it passes with it and fails without it", async () => {
  const id = await h.service("hc", { health_check_path: "/cgi-bin/health", health_check_host: "health.internal", deployment_timeout: 10 });
  await h.build("hc");
  const good = await h.deploy((await h.release(id)).release_id);
  expect(good.error_detail).toBeNull();
  expect(good.status).toBe("complete");
  expect((await h.get(h.host("hc"))).status).toBe(200);

  expect((await h.t.req("PATCH", `${h.base()}/hc`, { health_check_host: null }, { key: h.key })).status).toBe(200);
  const bad = await h.deploy((await h.release(id)).release_id);
  expect(bad.status).toBe("error");
  expect(bad.error_detail).toContain("GET /cgi-bin/health answered 503");
  expect((await h.get(h.host("hc"))).status).toBe(200); // the first release still serves
});
