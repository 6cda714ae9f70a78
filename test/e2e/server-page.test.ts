// The dashboard's server page in Chromium against a live `ancla serve --backup-every 24h`: the
// first scheduled backup shows with its age, "Back up now" adds one, and the status facts
// (version, database, Docker, job queue, router) come from GET /api/v1/status.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Browser } from "playwright-core";
import { startLiveServer, type LiveServer } from "../support/server";
import { ensureDashboardBuilt, launchBrowser, openTab, realProblems, step, type Tab } from "../support/browser";
import { age } from "../../web/views/server";
import { VERSION } from "../../src/lib/version";

// a live server and a browser; more than bun's 5 s default
setDefaultTimeout(300_000);
let server: LiveServer;
let browser: Browser;
let tab: Tab;

beforeAll(async () => {
  ensureDashboardBuilt();
  server = await startLiveServer({ args: ["--backup-every", "24h", "--backup-keep", "3"] });
  browser = await launchBrowser();
  tab = await openTab(browser);
}, 300_000);

afterAll(async () => {
  await tab?.close();
  await browser?.close();
  await server?.stop();
}, 300_000);

test("age reads as the two largest units", () => {
  expect([age(0), age(59), age(61), age(3 * 3600 + 5 * 60 + 9), age(2 * 86400 + 3600)]).toEqual(["0 s", "59 s", "1 min 1 s", "3 h 5 min", "2 d 1 h"]);
});

test("server admins see the last backup and its age, back up on demand, and the server's status", async () => {
  const { page } = tab;
  const text = readFileSync(join(server.dataDir, "initial-admin.txt"), "utf8");
  await step(page, "server-page", async () => {
    await page.goto(server.url + "/admin/server");
    await page.getByLabel("Email or username").fill(/email: (\S+)/.exec(text)![1]!);
    await page.getByLabel("Password").fill(/password: (\S+)/.exec(text)![1]!);
    await page.keyboard.press("Enter");
    await page.getByRole("link", { name: "Server" }).click();
    await page.getByRole("heading", { name: "Server", level: 1 }).waitFor();
    // the schedule wrote the first backup at start (none existed yet)
    const last = page.getByTestId("last-backup");
    await last.filter({ hasText: /^Last backup \d+ (s|min)/ }).waitFor();
    expect(await last.textContent()).toContain("every 1 d, keeping 3");
    const rows = () => page.locator("table tbody tr").count();
    const before = await rows();
    expect(before).toBe(1);
    await Bun.sleep(1100); // backup files are named by the second
    await page.getByRole("button", { name: "Back up now" }).click();
    await page.waitForFunction((n) => document.querySelectorAll("table tbody tr").length === n, before + 1);
    const facts = await page.locator("dl.facts").textContent();
    expect(facts).toContain(`Version${VERSION}`);
    expect(facts).toMatch(/Dockerreachable|Dockerunreachable/);
    expect(facts).toContain("Job queue0 running, 0 queued");
    expect(facts).toMatch(/Routerhttp:\/\/127\.0\.0\.1:\d+/);
  });
  expect(readdirSync(join(server.dataDir, "backups")).filter((n) => n.endsWith(".tar.gz"))).toHaveLength(2);
  expect(realProblems(tab.problems)).toEqual([]);
});
