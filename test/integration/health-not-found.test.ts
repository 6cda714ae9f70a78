// A first deploy whose app does not serve the health check path: the deploy log shows the probes'
// progress (rate-limited, not one line per probe), a web replica answering 404 for the configured
// time fails the deploy early with a hint naming the path and the command that changes it, and
// the previous release keeps serving. Real containers (the busybox fixture) through the router.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { serveConfigSchema } from "../../src/config";
import { deployHarness, type DeployHarness } from "../fixtures/webapp/support";
import { testDocker } from "../support/docker";

setDefaultTimeout(300_000);

const NOT_FOUND_S = 12; // the server setting --health-not-found-timeout (30 s by default)
let h: DeployHarness;
let appId: string;

beforeAll(async () => {
  h = await deployHarness("hnf", { healthNotFoundTimeout: NOT_FOUND_S });
  appId = await h.service("app", { process_counts: { web: 1 }, deployment_timeout: 180 });
});

afterAll(async () => {
  await h?.close();
});

test("the server waits 30 s of 404 answers by default; 0 turns the early failure off", () => {
  expect(serveConfigSchema.parse({}).healthNotFoundTimeout).toBe(30);
  expect(serveConfigSchema.parse({ healthNotFoundTimeout: "0" }).healthNotFoundTimeout).toBe(0);
  expect(serveConfigSchema.safeParse({ healthNotFoundTimeout: "-1" }).success).toBe(false);
});

test("a replica answering 404 to the health path fails the deploy early with the fix; progress lines in the log; the previous release keeps serving", async () => {
  await h.build("app");
  const good = await h.deploy((await h.release(appId)).release_id);
  expect(good.status).toBe("complete");
  expect(good.deploy_log).toContain("web replica 1 is healthy (GET /_health/");

  // the fixture's httpd answers 404 to a path it does not have
  expect((await h.t.req("PATCH", `${h.base()}/app`, { health_check_path: "/not-here/" }, { key: h.key })).status).toBe(200);
  const before = (await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.service-id=${appId}`] } })).map((c) => c.Id).sort();
  const bad = await h.deploy((await h.release(appId)).release_id);

  expect(bad.status).toBe("error");
  const target = `${h.org}/web/production/app`;
  expect(bad.error_detail).toContain("web replica 1 answered 404 to its health check GET /not-here/");
  expect(bad.error_detail).toContain(`ancla services update ${target} --health-check-path /`);
  expect(bad.error_detail).not.toContain("timed out");
  // it gave up after the 404 window, long before the service's 180 s deployment timeout
  const seconds = Number(/for (\d+) s/.exec(bad.error_detail)?.[1]);
  expect(seconds).toBeGreaterThanOrEqual(NOT_FOUND_S);
  expect(seconds).toBeLessThan(180);

  // progress: "web replica 1: GET /not-here/ → 404, 5 s of 180 s", one line per ~5 s, not per probe
  const progress = (bad.deploy_log as string).split("\n").filter((l) => l.includes("web replica 1: GET /not-here/ →"));
  const notFound = progress.filter((l) => /→ 404, \d+ s of 180 s$/.test(l));
  expect(notFound.length).toBeGreaterThanOrEqual(2);
  expect(notFound[0]).toMatch(/web replica 1: GET \/not-here\/ → 404, \d+ s of 180 s$/);
  const secondsOf = notFound.map((l) => Number(/, (\d+) s of/.exec(l)![1]));
  expect(secondsOf.at(-1)!).toBeGreaterThan(secondsOf[0]!);
  // probes run every 200 ms for 12 s or more: ~60 of them; the log has a line per 5 s (and per change)
  expect(progress.length).toBeLessThanOrEqual(Math.ceil(seconds / 5) + 2);
  expect(bad.deploy_log).toContain("Deployment failed");

  // the failed release's replica is gone, the previous one still serves
  const after = (await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.service-id=${appId}`] } })).map((c) => c.Id).sort();
  expect(after).toEqual(before);
  const page = await h.get(h.host("app"));
  expect(page.status).toBe(200);
  expect(page.text).toContain("hello from the webapp");

  // the hint's command is the fix: `/` is served, the next deploy goes through
  expect((await h.t.req("PATCH", `${h.base()}/app`, { health_check_path: "/" }, { key: h.key })).status).toBe(200);
  const fixed = await h.deploy((await h.release(appId)).release_id);
  expect(fixed.status).toBe("complete");
});
