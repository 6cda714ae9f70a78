// The project page's "Deploy on git push" section in real Chromium against a live `ancla serve`
// (issue 13): the webhook URL to paste, every delivery (refused ones too) with what it did, a new
// secret shown once, and the previews list; no console errors.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { startLiveServer, type LiveServer } from "../support/server";
import { ensureDashboardBuilt, launchBrowser, openTab, realProblems, step, type Tab } from "../support/browser";
import { delivery, pushPayload, repository } from "../support/github";

setDefaultTimeout(300_000);

const SECRET = "e2e-webhook-secret-" + crypto.randomUUID();
const SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
let server: LiveServer;
let browser: Browser;
let tab: Tab;

async function api(path: string, body: unknown) {
  const r = await fetch(server.url + path, { method: "POST", headers: { "x-api-key": server.adminKey, "content-type": "application/json" }, body: JSON.stringify(body) });
  expect([path, r.status]).toEqual([path, 201]);
}

beforeAll(async () => {
  ensureDashboardBuilt();
  // nothing listens on port 9: the accepted push's build fails in the background, which is fine here
  server = await startLiveServer({ args: ["--github-webhook-secret", SECRET, "--git-allow-hosts", "127.0.0.0/8"] });
  await api("/api/v1/organizations", { name: "Acme" });
  await api("/api/v1/projects/acme", { name: "Web" });
  await api("/api/v1/orgs/acme/projects/web/envs/production/services", { name: "api", git_url: "http://127.0.0.1:9/octocat/site.git", auto_deploy_branch: "main" });
  const repo = repository("octocat/site", "http://127.0.0.1:9/octocat/site.git");
  for (const secret of [SECRET, "not-the-right-secret"]) {
    const d = delivery("push", pushPayload(repo, "refs/heads/main", "0".repeat(39) + "1", SHA), secret);
    await fetch(`${server.url}/api/v1/integrations/github/hooks`, { method: "POST", headers: d.headers, body: d.body });
  }
  browser = await launchBrowser();
  tab = await openTab(browser);
  const text = readFileSync(join(server.dataDir, "initial-admin.txt"), "utf8");
  await tab.page.goto(server.url + "/orgs/acme/projects/web");
  await tab.page.getByLabel("Email or username").fill(/email: (\S+)/.exec(text)![1]!);
  await tab.page.getByLabel("Password").fill(/password: (\S+)/.exec(text)![1]!);
  await tab.page.getByRole("button", { name: "Sign in" }).click();
  await tab.page.getByRole("heading", { name: "Deploy on git push" }).waitFor();
}, 300_000);

afterAll(async () => {
  await tab?.close();
  await browser?.close();
  await server?.stop();
}, 300_000);

describe("project page: deploy on git push", () => {
  test("shows the webhook URL, each delivery with what it did, and a new secret once", async () => {
    const { page } = tab;
    await step(page, "git-push-section", async () => {
      await page.getByText(`${server.url}/api/v1/integrations/github/hooks`).waitFor();
      const rows = page.getByRole("table", { name: "Webhook deliveries, newest first" }).locator("tbody tr");
      await rows.first().waitFor();
      expect(await rows.count()).toBe(2);
      await rows.filter({ hasText: "refused" }).first().waitFor();
      await rows.filter({ hasText: "Deploying 6dcb09b5b578 of 'main' to production/api." }).first().waitFor();
      await page.getByText("Previews of pull requests are off.").waitFor();
      await page.getByRole("button", { name: "Generate a secret" }).click();
      const shown = page.getByText("Secret (shown once, paste it into GitHub now):");
      await shown.waitFor();
      const secret = (await shown.locator("code").textContent())!.trim();
      expect(secret).toMatch(/^[A-Za-z0-9]{40}$/);
      await page.reload();
      await page.getByText("Secret: set for this project").waitFor();
      expect(await page.content()).not.toContain(secret);
    });
    expect(realProblems(tab.problems)).toEqual([]);
  });
});
