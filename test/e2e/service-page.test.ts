// The service page against a live `ancla serve` and the real Docker engine: pipeline stages and
// logs of a running deploy, the Deploy button, release history with config changes, roll back
// to a chosen release, scale — each checked through the API and the app router.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { startLiveServer, type LiveServer } from "../support/server";
import { contextTar, ensureBaseImage, removeLabelled, RUN_ID } from "../support/docker";
import { fixtureFiles } from "../fixtures/webapp/support";
import { ensureDashboardBuilt, launchBrowser, openTab, realProblems, screenshot, step, type Tab } from "../support/browser";

setDefaultTimeout(240_000);

let server: LiveServer;
let browser: Browser;
let tab: Tab;
let serviceId: string;
let routerUrl: string;
const org = `ui${RUN_ID}`.toLowerCase();
const svcPath = () => `/api/v1/orgs/${org}/projects/web/envs/production/services/app`;

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

beforeAll(async () => {
  ensureDashboardBuilt();
  await ensureBaseImage();
  server = await startLiveServer({ env: { ANCLA_TEST_RUN_ID: RUN_ID } });
  routerUrl = /ancla router listening on (http:\/\/\S+)/.exec(server.output())![1]!;
  expect((await api("POST", "/api/v1/organizations", { name: org, slug: org })).status).toBe(201);
  expect((await api("POST", `/api/v1/orgs/${org}/projects`, { name: "Web", slug: "web" })).status).toBe(201);
  const svc = await api("POST", `/api/v1/orgs/${org}/projects/web/envs/production/services`, { name: "app", process_counts: { web: 1 }, deployment_timeout: 60 });
  expect(svc.status).toBe(201);
  serviceId = svc.body.id;
  expect((await api("POST", `${svcPath()}/config`, { name: "GREETING", value: "one" })).status).toBe(201);
  // what `ancla deploy` does: upload the working directory as a tar build context
  const tar = new Uint8Array(await contextTar(fixtureFiles()));
  const first = await api("POST", `/api/v1/applications/${serviceId}/deploy`, tar, { "content-type": "application/x-tar" });
  expect(first.status).toBe(201);
  browser = await launchBrowser();
  tab = await openTab(browser);
  const text = readFileSync(join(server.dataDir, "initial-admin.txt"), "utf8");
  await tab.page.goto(server.url + `/orgs/${org}/projects/web/envs/production/services/app`);
  await tab.page.getByLabel("Email or username").fill(/email: (\S+)/.exec(text)![1]!);
  await tab.page.getByLabel("Password").fill(/password: (\S+)/.exec(text)![1]!);
  await tab.page.getByRole("button", { name: "Sign in" }).click();
  await tab.page.getByRole("heading", { name: "app", exact: true }).waitFor();
}, 120_000);

afterAll(async () => {
  await tab?.close();
  await browser?.close();
  await server?.stop();
  await removeLabelled(`dev.ancla.org=${org}`);
}, 60_000);

const stage = (name: string) => tab.page.locator(".stage", { hasText: name });

describe("service page (Docker)", () => {
  test("pipeline stages and build/deploy logs update while the first deploy runs", async () => {
    const { page } = tab;
    await step(page, "service-first-deploy", async () => {
      await stage("Deploy").filter({ hasText: "complete · v1" }).waitFor({ timeout: 180_000 });
      await stage("Build").filter({ hasText: "complete · v1" }).waitFor();
      const buildLog = await page.getByLabel("Build log").textContent();
      expect(buildLog).toContain("FROM ancla-test/busybox");
      await until("deploy log", async () => ((await page.getByLabel("Deploy log").textContent()) ?? "").length > 20 || undefined, 15_000);
      await page.getByRole("region", { name: "Releases" }).getByRole("cell", { name: "v1", exact: true }).waitFor();
      expect((await viaRouter("/cgi-bin/env")).text).toContain("GREETING=one");
      await page.getByRole("button", { name: "Show latest output" }).click();
      await page.getByLabel("Container output").waitFor();
      expect(await page.getByRole("region", { name: "App output" }).textContent()).not.toContain("not available");
      await screenshot(page, "15-service-deployed");
    });
  });

  test("Deploy button runs a new pipeline; the new release lists its config change", async () => {
    const { page } = tab;
    await step(page, "service-deploy-button", async () => {
      const config = page.getByRole("region", { name: "Service config" });
      await config.getByText("Set a variable").click();
      const f = config.getByRole("form", { name: "Set a service variable" });
      await f.getByLabel("Name").fill("GREETING");
      await f.getByLabel("Value").fill("two");
      await f.getByLabel("Secret (encrypted, never displayed)").uncheck();
      await f.getByRole("button", { name: "Save variable" }).click();
      await config.getByText("two", { exact: true }).first().waitFor();
      // the resolved view follows the edit, naming the scope the value comes from
      await config.locator("table").last().getByRole("row").filter({ hasText: "GREETING" }).filter({ hasText: "two" }).filter({ hasText: "service" }).waitFor();
      await page.getByRole("button", { name: "Deploy", exact: true }).click();
      await stage("Build").filter({ hasText: /queued|running|complete · v2/ }).first().waitFor();
      await stage("Deploy").filter({ hasText: "complete · v2" }).waitFor({ timeout: 180_000 });
      const releases = page.getByRole("region", { name: "Releases" });
      await releases.getByRole("cell", { name: "v2", exact: true }).waitFor();
      const row = releases.getByRole("row").filter({ hasText: "v2" });
      await row.getByText("Show changes").click();
      await row.getByText(/changed GREETING \(one → two\)/).waitFor();
      await row.getByText(/image v1 → v2/).waitFor();
      await until("v2 serving", async () => (await viaRouter("/cgi-bin/env")).text.includes("GREETING=two") || undefined, 30_000);
      await screenshot(page, "16-service-release-changes");
    });
  });

  test("roll back to a chosen release redeploys it (its config snapshot, not today's)", async () => {
    const { page } = tab;
    await step(page, "service-rollback", async () => {
      page.once("dialog", (d) => void d.accept());
      await page.getByRole("button", { name: "Roll back to v1" }).click();
      const deployed = await until("rollback deployment", async () => {
        const list = await api("GET", `/api/v1/orgs/${org}/projects/web/envs/production/deployments`);
        const latest = list.body.find((d: { application_id: string }) => d.application_id === serviceId);
        return latest && latest.release?.version === 1 && latest.complete ? latest : undefined;
      });
      expect(deployed.error).toBe(false);
      expect((await viaRouter("/cgi-bin/env")).text).toContain("GREETING=one");
      await page.getByRole("heading", { name: "app", exact: true }).waitFor();
      // the environment page lists the three deployments, newest (the rollback to v1) first
      await page.goto(server.url + `/orgs/${org}/projects/web/envs/production`);
      const rows = page.getByRole("region", { name: "Recent deployments" }).getByRole("row");
      await rows.nth(3).waitFor();
      expect(await rows.nth(1).textContent()).toContain("v1");
      expect(await rows.nth(2).textContent()).toContain("v2");
      await screenshot(page, "16b-env-deployments");
      await page.goBack();
      await page.getByRole("heading", { name: "app", exact: true }).waitFor();
    });
  });

  test("scale per process type from the page", async () => {
    const { page } = tab;
    await step(page, "service-scale", async () => {
      const scale = page.getByRole("form", { name: "Scale processes" });
      await scale.getByLabel("Replicas").first().fill("2");
      await scale.getByRole("button", { name: "Apply scale" }).click();
      await page.getByText("Scale applied.").or(page.getByRole("heading", { name: "app", exact: true })).first().waitFor();
      const svc = await until("scaled", async () => {
        const r = await api("GET", svcPath());
        return r.body.process_counts.web === 2 ? r.body : undefined;
      }, 60_000);
      expect(svc.process_counts.web).toBe(2);
      // the Replicas section (refreshed while the page is open) shows both running
      await page.getByText("web: 2/2 running").waitFor({ timeout: 60_000 });
      await page.waitForLoadState("networkidle");
      await screenshot(page, "17-service-scaled");
      expect(realProblems(tab.problems)).toEqual([]);
    });
  });

  test("settings: a bad value is answered next to its field; saved settings reach the API and the URL list", async () => {
    const { page } = tab;
    await step(page, "service-settings", async () => {
      const f = page.getByRole("form", { name: "Service settings" });
      await f.getByLabel("Custom domains").fill("not a domain!");
      await f.getByRole("button", { name: "Save settings" }).click();
      await f.locator('[data-field="domains"] .field-error').filter({ hasText: /hostname/ }).waitFor();
      expect((await api("GET", svcPath())).body.domains).toEqual([]);
      await f.getByLabel("Custom domains").fill("shop.example.test");
      await f.getByLabel("Health check path").fill("/_health/");
      await f.getByLabel("Deployment timeout (seconds)").fill("90");
      await f.getByRole("button", { name: "Save settings" }).click();
      await page.locator(".urls").filter({ hasText: "shop.example.test" }).waitFor();
      const svc = (await api("GET", svcPath())).body;
      expect({ domains: svc.domains, timeout: svc.deployment_timeout }).toEqual({ domains: ["shop.example.test"], timeout: 90 });
      expect(realProblems(tab.problems)).toEqual([]);
    });
  });

  test("promotion: create staging on the project page, preview the diff, promote, follow it to complete", async () => {
    const { page } = tab;
    await step(page, "promotion", async () => {
      await page.goto(server.url + `/orgs/${org}/projects/web`);
      await page.getByText("Create an environment").click();
      const envForm = page.getByRole("form", { name: "Create an environment" });
      await envForm.getByLabel("Name").fill("Staging");
      await envForm.getByLabel("Type").selectOption("staging");
      await envForm.getByRole("button", { name: "Create environment" }).click();
      await page.getByRole("heading", { name: /Staging/ }).waitFor();
      expect((await api("POST", `/api/v1/orgs/${org}/projects/web/envs/staging/config`, { name: "ONLY_STAGING", value: "yes" })).status).toBe(201);
      await page.goto(server.url + `/orgs/${org}/projects/web`);
      const promote = page.getByRole("form", { name: "Preview a promotion" });
      await promote.getByLabel("Service").selectOption("app");
      await promote.getByLabel("From").selectOption("production");
      await promote.getByLabel("To").selectOption("staging");
      await promote.getByRole("button", { name: "Preview" }).click();
      const preview = page.locator(".preview");
      await preview.getByText(/Release v\d+ of production/).waitFor();
      await preview.getByText("ONLY_STAGING").waitFor(); // the target's own config shows as a difference
      await preview.getByText(/does not exist there yet/).waitFor();
      await screenshot(page, "18-promotion-preview");
      await page.getByRole("button", { name: "Promote to staging" }).click();
      await page.getByText(/Promotion complete/).waitFor({ timeout: 180_000 });
      const staged = await api("GET", `/api/v1/orgs/${org}/projects/web/envs/staging/services/app`);
      expect(staged.status).toBe(200);
      expect(staged.body.latest_deployment).not.toBeNull();
      await screenshot(page, "19-promotion-complete");
      expect(realProblems(tab.problems)).toEqual([]);
    });
  });
});
