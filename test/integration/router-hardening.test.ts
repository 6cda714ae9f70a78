// The router against the real fixture container: the busybox CGI page (headers ended by a bare
// LF, body ended by close) answers 200 through the router as it does directly, without warnings;
// a paused replica gets a 504 after the service's own upstream timeout and serves again after.
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { deployHarness, type DeployHarness } from "../fixtures/webapp/support";
import { testDocker } from "../support/docker";
import { routeTableOf } from "../../src/router/table";
import { refreshHosts } from "../../src/modules/deployments/routing";

// Docker builds and rollouts outlast bun's 5 s default
setDefaultTimeout(300_000);

let h: DeployHarness;
let appId: string;
const warnings: string[] = [];

beforeAll(async () => {
  h = await deployHarness("rh");
  // every warning the router writes through the server logger is counted
  const logger = h.t.deps.logger;
  (h.t.deps as { logger: typeof logger }).logger = { ...logger, warn: (m, f) => void warnings.push(`${m} ${JSON.stringify(f ?? {})}`) };
  appId = await h.service("app", { upstream_timeout: 2 });
  await h.setVar("app", "GREETING", "cgi");
  await h.build("app");
  const d = await h.deploy((await h.release(appId)).release_id);
  expect(d.status).toBe("complete");
});

afterAll(async () => {
  await h?.close();
});

const replica = () => routeTableOf(h.t.deps).replicasOf(appId)[0]!;

test("the CGI page answers 200 through the router with the same body as directly, 200 times without a warning", async () => {
  const direct = await fetch(`http://127.0.0.1:${replica().port}/cgi-bin/env`);
  expect(direct.status).toBe(200);
  const directBody = await direct.text();
  expect(directBody).toContain("GREETING=cgi");

  const routed = await h.get(h.host("app"), "/cgi-bin/env");
  expect(routed.status).toBe(200);
  expect(routed.text).toBe(directBody);

  const statuses = new Map<number, number>();
  for (let round = 0; round < 20; round++) {
    const batch = await Promise.all(Array.from({ length: 10 }, () => h.get(h.host("app"), "/cgi-bin/env")));
    for (const r of batch) {
      statuses.set(r.status, (statuses.get(r.status) ?? 0) + 1);
      if (r.status === 200) expect(r.text).toContain("GREETING=cgi\n");
    }
  }
  expect([...statuses]).toEqual([[200, 200]]);
  expect(warnings).toEqual([]);
});

test("a paused replica → 504 after the service's upstream timeout (2 s), served again once unpaused", async () => {
  refreshHosts(h.t.deps); // the timeout set at creation is in the table (the server refreshes every 5 s)
  expect(routeTableOf(h.t.deps).upstreamTimeoutMs(appId)).toBe(2000);
  const container = testDocker().getContainer(replica().id);
  await container.pause();
  try {
    const started = Date.now();
    const res = await h.get(h.host("app"), "/cgi-bin/env");
    expect(res.status).toBe(504);
    expect(res.text).toContain("Gateway Timeout");
    expect(Date.now() - started).toBeGreaterThanOrEqual(1900); // bounded by the setting, not by luck
  } finally {
    await container.unpause();
  }
  expect(warnings.some((w) => w.startsWith("router backend timed out"))).toBe(true);
  let after = await h.get(h.host("app"), "/cgi-bin/env");
  for (let i = 0; i < 20 && after.status !== 200; i++) {
    await Bun.sleep(250);
    after = await h.get(h.host("app"), "/cgi-bin/env");
  }
  expect(after.status).toBe(200);
  expect(replica().inflight).toBe(0);
});
