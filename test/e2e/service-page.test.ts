// The service page against a live `ancla serve` (usage sampled every second) and the real Docker
// engine: the page follows deploys started elsewhere (`ancla deploy`, the API) without a reload, the Deployments tab
// lists every run with who, duration and its own log, the live marker moves after a rollback,
// Scaling lists the Procfile's process types, logs follow live (replica filter, ANSI stripped),
// charts render with data and read out values on hover, a 390 px wide page has no sideways
// scrolling, and the danger zone deletes the service after its name is typed.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import type { Browser } from "playwright-core";
import { ancla, startLiveServer, type LiveServer } from "../support/server";
import { contextTar, ensureBaseImage, removeOrgResources, RUN_ID, RUN_LABELS_ENV } from "../support/docker";
import { fixtureFiles } from "../fixtures/webapp/support";
import { ensureDashboardBuilt, launchBrowser, openTab, realProblems, screenshot, step, type Tab } from "../support/browser";

setDefaultTimeout(300_000);

let server: LiveServer;
let browser: Browser;
let tab: Tab;
let serviceId: string;
let routerUrl: string;
let admin: { email: string; password: string };
const org = `ui${RUN_ID}`.toLowerCase();
const svcPath = () => `/api/v1/orgs/${org}/projects/web/envs/production/services/app`;
const pagePath = () => `/orgs/${org}/projects/web/envs/production/services/app`;
// the worker prints a coloured tick every second: live output with ANSI codes to strip
const PROCFILE = `web: exec httpd -f -p "$PORT" -h /www\nworker: exec sh -c 'i=0; while true; do i=$((i+1)); printf "\\033[32mtick %s\\033[0m\\n" $i; sleep 1; done'\n`;

async function api(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
  const res = await fetch(server.url + path, {
    method,
    headers: { "x-api-key": server.adminKey, ...(body !== undefined && !(body instanceof Uint8Array) ? { "content-type": "application/json" } : {}), ...headers },
    body: body === undefined ? undefined : body instanceof Uint8Array ? new Blob([body as Uint8Array<ArrayBuffer>]) : JSON.stringify(body),
  });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : null };
}

async function until<T>(what: string, fn: () => Promise<T | undefined | false>, timeoutMs = 150_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await Bun.sleep(500);
  }
}

const viaRouter = (path: string) =>
  fetch(routerUrl + path, { headers: { host: `app.web.${org}.localhost` } }).then(async (r) => ({ status: r.status, text: await r.text() }));

/** `ancla deploy` of the fixture app from a directory, as a user runs it (resolves when the CLI exits). */
const deployThroughCli = () => {
  const dir = mkdtempSync(join(tmpdir(), "ancla-ui-app-"));
  for (const [rel, f] of Object.entries(fixtureFiles({ Procfile: PROCFILE }))) {
    mkdirSync(dirname(join(dir, rel)), { recursive: true });
    writeFileSync(join(dir, rel), typeof f === "string" ? f : f.content);
    if (typeof f !== "string") chmodSync(join(dir, rel), f.mode);
  }
  return ancla(["deploy", dir, "--target", `${org}/web/production/app`, "-q"], { env: { ANCLA_SERVER: server.url, ANCLA_API_KEY: server.adminKey } });
};

const deployThroughApi = async () => {
  const tar = new Uint8Array(await contextTar(fixtureFiles({ Procfile: PROCFILE })));
  const r = await api("POST", `/api/v1/applications/${serviceId}/deploy`, tar, { "content-type": "application/x-tar" });
  expect(r.status).toBe(201);
};

beforeAll(async () => {
  ensureDashboardBuilt();
  await ensureBaseImage();
  server = await startLiveServer({ env: RUN_LABELS_ENV, args: ["--sample-interval", "1"] });
  routerUrl = /ancla router listening on (http:\/\/\S+)/.exec(server.output())![1]!;
  expect((await api("POST", "/api/v1/organizations", { name: org, slug: org })).status).toBe(201);
  expect((await api("POST", `/api/v1/orgs/${org}/projects`, { name: "Web", slug: "web" })).status).toBe(201);
  const svc = await api("POST", `/api/v1/orgs/${org}/projects/web/envs/production/services`, { name: "app", process_counts: { web: 1, worker: 1 }, deployment_timeout: 60 });
  expect(svc.status).toBe(201);
  serviceId = svc.body.id;
  expect((await api("POST", `${svcPath()}/config`, { name: "GREETING", value: "one" })).status).toBe(201);
  browser = await launchBrowser();
  tab = await openTab(browser);
  const text = readFileSync(join(server.dataDir, "initial-admin.txt"), "utf8");
  admin = { email: /email: (\S+)/.exec(text)![1]!, password: /password: (\S+)/.exec(text)![1]! };
  await tab.page.goto(server.url + pagePath());
  await tab.page.getByLabel("Email or username").fill(admin.email);
  await tab.page.getByLabel("Password").fill(admin.password);
  await tab.page.getByRole("button", { name: "Sign in" }).click();
  await tab.page.getByRole("heading", { name: "app", exact: true }).waitFor();
}, 300_000);

afterAll(async () => {
  await tab?.close();
  await browser?.close();
  await server?.stop();
  await removeOrgResources(org);
}, 300_000);

const head = () => tab.page.getByRole("banner", { name: "Service status" }).or(tab.page.locator("header.svc-head"));
const fact = (name: string) => tab.page.locator(".facts > div", { hasText: name }).locator("dd");
const openTabNamed = async (name: string) => {
  await tab.page.getByRole("navigation", { name: "Service sections" }).getByRole("link", { name, exact: true }).click();
  await tab.page.getByRole("region", { name }).first().waitFor();
};

describe("service page (Docker)", () => {
  test("never deployed: the page says how; a deploy started with the CLI (ancla deploy) shows live within seconds, without a reload", async () => {
    const { page } = tab;
    await step(page, "service-follows-api-deploy", async () => {
      await page.getByLabel("First deploy").getByText(`ancla link ${org}/web/production/app`).waitFor();
      await head().locator(".badge", { hasText: "Not deployed" }).waitFor();
      await page.locator("[data-empty=metrics]").filter({ hasText: "No running replicas" }).waitFor();
      await page.evaluate(() => ((window as unknown as { marker: number }).marker = 42));
      const cli = deployThroughCli();
      // a poll every 2 s sees the run start elsewhere
      await head().locator(".badge", { hasText: /Building|Deploying/ }).waitFor({ timeout: 60_000 });
      await head().locator(".badge", { hasText: "Live" }).waitFor({ timeout: 180_000 });
      await fact("Live release").filter({ hasText: "v1" }).waitFor({ timeout: 60_000 });
      await fact("Replicas").filter({ hasText: "2/2 running" }).waitFor({ timeout: 30_000 });
      const done = await cli;
      expect({ code: done.code, stderr: done.code === 0 ? "" : done.stderr }).toEqual({ code: 0, stderr: "" });
      expect(done.stdout).toContain(`Deployed ${org}/web/production/app (release v1)`);
      expect(await page.evaluate(() => (window as unknown as { marker?: number }).marker)).toBe(42); // no reload
      expect(await page.getByLabel("First deploy").count()).toBe(0);
      const buildLog = await page.getByLabel("Build log").textContent();
      expect(buildLog).toContain("FROM ancla-test/busybox");
      expect((await viaRouter("/cgi-bin/env")).text).toContain("GREETING=one");
      await screenshot(page, "15-service-deployed");
    });
  });

  test("Deployments tab: the build and the deploy with who, duration and each its own log; a deep link", async () => {
    const { page } = tab;
    await step(page, "service-history", async () => {
      await openTabNamed("Deployments");
      expect(new URL(page.url()).pathname).toBe(pagePath() + "/deployments");
      const deploy = page.locator(".run", { hasText: "Deploy #1" });
      await deploy.locator(".tag.live").waitFor();
      expect(await deploy.locator(".run-meta").textContent()).toMatch(/by admin · .* · took \d+/);
      await deploy.getByText("Log and changes").click();
      await until("deploy log", async () => ((await deploy.locator("pre.log").textContent()) ?? "").includes("health") || undefined, 15_000);
      const build = page.locator(".run", { hasText: "Build #1" });
      await build.getByText("Log", { exact: true }).click();
      await build.locator("pre.log").filter({ hasText: "FROM ancla-test/busybox" }).waitFor();
      await page.reload();
      await page.locator(".run", { hasText: "Deploy #1" }).waitFor();
      expect(await page.getByRole("navigation", { name: "Service sections" }).getByRole("link", { name: "Deployments" }).getAttribute("aria-current")).toBe("page");
      await screenshot(page, "16-service-history");
    });
  });

  test("a second deploy through the API appears live; Roll back to v1 moves the live marker, v2 then offers Redeploy", async () => {
    const { page } = tab;
    await step(page, "service-rollback", async () => {
      expect((await api("POST", `${svcPath()}/config`, { name: "GREETING", value: "two" })).status).toBe(201);
      await deployThroughApi();
      await page.locator(".run", { hasText: "Deploy #2" }).locator(".tag.live").waitFor({ timeout: 180_000 });
      await fact("Live release").filter({ hasText: "v2" }).waitFor({ timeout: 60_000 });
      await until("v2 serving", async () => (await viaRouter("/cgi-bin/env")).text.includes("GREETING=two") || undefined, 30_000);
      const row2 = page.locator(".run", { hasText: "Deploy #2" });
      await row2.getByText("Log and changes").click();
      await row2.getByText(/changed GREETING \(one → two\)/).waitFor();
      // the live release offers neither; the older one offers a rollback
      expect(await row2.getByRole("button").count()).toBe(0);
      await page.locator(".run", { hasText: "Deploy #1" }).getByRole("button", { name: "Roll back to v1" }).click();
      await page.getByRole("status").filter({ hasText: "Deploying release v1." }).first().waitFor();
      const rollback = page.locator(".run", { hasText: /Rollback #\d/ });
      await rollback.locator(".tag.live").waitFor({ timeout: 180_000 });
      expect((await viaRouter("/cgi-bin/env")).text).toContain("GREETING=one");
      await page.locator(".run", { hasText: "Deploy #2" }).getByRole("button", { name: "Redeploy v2" }).waitFor();
      expect(await page.getByRole("button", { name: /Roll back to/ }).count()).toBe(0);
      await fact("Live release").filter({ hasText: "v1" }).waitFor({ timeout: 60_000 });
      await screenshot(page, "16b-service-rollback");
      // the environment page shows the release that serves (v1 after the rollback), not the newest (v2)
      await page.goto(server.url + `/orgs/${org}/projects/web/envs/production`);
      const services = page.getByRole("table").filter({ has: page.getByRole("columnheader", { name: "Serving" }) });
      const row = services.getByRole("row").filter({ has: page.getByRole("cell", { name: "app", exact: true }) });
      await row.waitFor();
      const cells = await row.getByRole("cell").allTextContents();
      expect(cells.slice(2, 4)).toEqual(["v1", "v2"]); // Serving, Newest release
      await page.goto(server.url + pagePath());
      await page.getByRole("heading", { name: "app", exact: true }).waitFor();
    });
  });

  test("Scaling lists the Procfile's process types with running counts; stopping the worker keeps the message", async () => {
    const { page } = tab;
    await step(page, "service-scale", async () => {
      await openTabNamed("Scaling");
      const f = page.getByRole("form", { name: "Scale processes" });
      // the panel renders its process list after its data arrives: wait for it (a loaded machine
      // read an empty list here), then check it is exactly these two
      await f.locator("legend").nth(1).waitFor({ timeout: 60_000 });
      expect(await f.locator("legend").allTextContents()).toEqual(["web", "worker"]);
      await page.locator('[data-process="worker"]').filter({ hasText: "1 running" }).waitFor();
      expect(await f.getByLabel("Replicas").first().getAttribute("max")).toBe("20");
      await f.locator("fieldset", { hasText: "worker" }).getByLabel("Replicas").fill("0");
      await f.getByRole("button", { name: "Apply scale" }).click();
      await page.locator(".tab-panel p.ok").filter({ hasText: "Scale applied." }).waitFor();
      await page.locator('[data-process="worker"]').filter({ hasText: "0 running (stopped)" }).waitFor({ timeout: 60_000 });
      // the panel updated in place: the confirmation is still there
      expect(await page.locator(".tab-panel p.ok").filter({ hasText: "Scale applied." }).count()).toBe(1);
      expect((await api("GET", svcPath())).body.process_counts).toEqual({ web: 1, worker: 0 });
      // and a scale shows in the history
      await openTabNamed("Deployments");
      await page.locator(".run", { hasText: /Scale #\d/ }).first().waitFor();
      await page.locator('.run.live', { hasText: /Rollback/ }).waitFor();
      // put the worker back for the logs test
      expect((await api("POST", `/api/v1/applications/${serviceId}/scale`, { process_counts: { web: 1, worker: 1 } })).status).toBeLessThan(300);
      await fact("Replicas").filter({ hasText: "2/2 running" }).waitFor({ timeout: 60_000 });
    });
  });

  test("Logs follow live with timestamps; the replica filter shows one replica; ANSI codes are stripped", async () => {
    const { page } = tab;
    await step(page, "service-logs", async () => {
      await openTabNamed("Logs");
      const out = page.getByLabel("Container output");
      const ticks = async () => [...((await out.textContent()) ?? "").matchAll(/tick (\d+)/g)].length;
      const first = await until("tick lines", async () => (await ticks()) || undefined, 30_000);
      await until("more tick lines (live)", async () => (await ticks()) > first + 1 || undefined, 30_000);
      const text = (await out.textContent()) ?? "";
      expect(text).not.toContain("\u001b");
      expect(text).not.toContain("[32m");
      expect(text).toMatch(/^\d\d:\d\d:\d\d +worker\.1 \| tick \d+$/m);
      await page.getByLabel("Replica", { exact: true }).selectOption("worker.1");
      const filtered = (await out.textContent()) ?? "";
      expect(filtered).toContain("worker.1 | tick");
      expect(filtered).not.toContain("web.1 |");
      await screenshot(page, "17-service-logs");
    });
  });

  test("charts render with sampled data and read out the value under the pointer", async () => {
    const { page } = tab;
    await step(page, "service-charts", async () => {
      await openTabNamed("Overview");
      const metrics = page.getByRole("region", { name: "Metrics" });
      // the sampler ticks every second; re-pick the range until its points arrive
      await until("chart with data", async () => {
        if (await metrics.locator("figure[data-chart=cpu] path.line").count()) return true;
        await metrics.getByRole("button", { name: "1h" }).click();
        await Bun.sleep(1500);
        return undefined;
      }, 180_000);
      const d = await metrics.locator("figure[data-chart=memory] path.line").getAttribute("d");
      expect(d).toMatch(/^M[\d.]+,[\d.]+/);
      expect(await metrics.locator("figure[data-chart=memory] figcaption").textContent()).toMatch(/now \d+(\.\d)? MiB/);
      const plot = metrics.locator("figure[data-chart=replicas] .plot");
      const box = (await plot.boundingBox())!;
      await plot.hover({ position: { x: box.width - 3, y: box.height / 2 } });
      await metrics.locator("figure[data-chart=replicas] .tip").filter({ hasText: /: (\d+|no sample)$/ }).waitFor();
      await metrics.getByRole("cell", { name: "worker.1" }).waitFor();
      // the replica list has each container's uptime (started_at from the server)
      const web = page.getByRole("region", { name: "Replicas" }).getByRole("row").filter({ hasText: "web.1" });
      await web.getByRole("cell", { name: /^\d+ (s|min)/ }).waitFor({ timeout: 60_000 });
      await screenshot(page, "18-service-charts");
    });
  });

  test("390 px wide: every tab without sideways scrolling", async () => {
    const narrow = await openTab(browser, { width: 390, height: 844 });
    try {
      await step(narrow.page, "service-390", async () => {
        await narrow.page.goto(server.url + pagePath());
        await narrow.page.getByLabel("Email or username").fill(admin.email);
        await narrow.page.getByLabel("Password").fill(admin.password);
        await narrow.page.getByRole("button", { name: "Sign in" }).click();
        await narrow.page.getByRole("heading", { name: "app", exact: true }).waitFor();
        for (const t of ["", "/deployments", "/logs", "/environment", "/scaling", "/settings"]) {
          await narrow.page.goto(server.url + pagePath() + t);
          await narrow.page.getByRole("heading", { name: "app", exact: true }).waitFor();
          await narrow.page.locator(".tab-panel section").first().waitFor();
          await Bun.sleep(300);
          const overflow = await narrow.page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
          expect({ t, overflow }).toEqual({ t, overflow: 0 });
        }
        await narrow.page.goto(server.url + pagePath() + "/deployments");
        await narrow.page.locator(".run").first().waitFor();
        await screenshot(narrow.page, "19-service-390px");
        // a failed run shows the engine's message, whose paths and digests have no space to break
        // at (a CI run's "failed to get digest sha256:…: open /var/lib/docker/…" widened this page
        // by 743 px): error text and toasts wrap anywhere
        const widest = await narrow.page.evaluate(() => {
          const long = `failed to get digest sha256:${"0123456789abcdef".repeat(4)}: open /var/lib/docker/image/overlay2/imagedb/content/sha256/${"0123456789abcdef".repeat(4)}`;
          const error = Object.assign(document.createElement("p"), { className: "error", textContent: long });
          document.querySelector(".run")!.append(error);
          const toasts = Object.assign(document.createElement("div"), { className: "toasts" });
          toasts.append(Object.assign(document.createElement("p"), { className: "toast error", textContent: long }));
          document.body.append(toasts);
          return document.documentElement.scrollWidth - window.innerWidth;
        });
        expect(widest).toBe(0);
        expect(realProblems(narrow.problems)).toEqual([]);
      });
    } finally {
      await narrow.close();
    }
  });

  test("Deploy menu: the current image with today's config becomes a new live release; Restart starts fresh replicas of it", async () => {
    const { page } = tab;
    await step(page, "service-deploy-menu", async () => {
      await page.goto(server.url + pagePath());
      await fact("Live release").filter({ hasText: "v1" }).waitFor({ timeout: 30_000 });
      expect((await api("POST", `${svcPath()}/config`, { name: "GREETING", value: "three" })).status).toBe(201);
      await head().locator("summary", { hasText: "Deploy" }).click();
      await head().getByRole("button", { name: "Deploy current image with new config" }).click();
      await page.getByRole("status").filter({ hasText: "Release v3 created; deploying." }).first().waitFor();
      await fact("Live release").filter({ hasText: "v3" }).waitFor({ timeout: 180_000 });
      await until("v3 serving", async () => (await viaRouter("/cgi-bin/env")).text.includes("GREETING=three") || undefined, 60_000);
      const before = (await api("GET", `/api/v1/applications/${serviceId}/pipeline-status`)).body.deploy.id;
      await head().locator("summary", { hasText: "Deploy" }).click();
      await head().getByRole("button", { name: "Restart" }).click();
      await page.getByRole("status").filter({ hasText: "Restarting release v3." }).first().waitFor();
      const restarted = await until("the restart's deployment", async () => {
        const d = (await api("GET", `/api/v1/applications/${serviceId}/pipeline-status`)).body.deploy;
        return d.id !== before && d.status === "complete" ? d : undefined;
      }, 180_000);
      expect(restarted.version).toBeGreaterThan(0);
      await fact("Live release").filter({ hasText: "v3" }).waitFor();
      expect((await viaRouter("/cgi-bin/env")).text).toContain("GREETING=three");
    });
  });

  test("danger zone: Delete stays disabled until the service's slug is typed, then the service and its containers go", async () => {
    const { page } = tab;
    await step(page, "service-delete", async () => {
      await openTabNamed("Settings");
      await page.getByRole("button", { name: "Delete service" }).click();
      const dialog = page.getByRole("dialog", { name: "Delete service?" });
      const go = dialog.getByRole("button", { name: "Delete" });
      expect(await go.isDisabled()).toBe(true);
      await dialog.getByLabel("Name of the service").fill("ap");
      expect(await go.isDisabled()).toBe(true);
      await dialog.getByLabel("Name of the service").fill("app");
      await go.click();
      await page.getByRole("status").filter({ hasText: "Deleted service app." }).first().waitFor();
      expect(new URL(page.url()).pathname).toBe(`/orgs/${org}/projects/web/envs/production`);
      expect((await api("GET", svcPath())).status).toBe(404);
      expect(realProblems(tab.problems)).toEqual([]);
    });
  });
});
