// The service's Settings tab lists, adds and removes persistent volumes, shows the API's 422 on a
// bad mount path next to the field, and shows org admins the service's exec sessions. Real
// Chromium against a live `ancla serve` (no deploy needed: volumes are settings until then).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser } from "playwright-core";
import { ancla, startLiveServer, type LiveServer } from "../support/server";
import { ensureDashboardBuilt, launchBrowser, openTab, realProblems, step, type Tab } from "../support/browser";

setDefaultTimeout(300_000);
let server: LiveServer;
let browser: Browser;
let tab: Tab;
const SERVICE = "/orgs/acme/projects/web/envs/production/services/app";

async function volumes(): Promise<{ name: string; mount_path: string; size_hint: string | null }[]> {
  const res = await fetch(`${server.url}/api/v1${SERVICE}/volumes`, { headers: { "x-api-key": server.adminKey } });
  return (await res.json()) as never;
}

beforeAll(async () => {
  ensureDashboardBuilt();
  server = await startLiveServer();
  const as = { home: server.home, env: { ANCLA_SERVER: server.url, ANCLA_API_KEY: server.adminKey } };
  for (const args of [["orgs", "create", "Acme", "--slug", "acme"], ["projects", "create", "acme/Web", "--slug", "web"], ["services", "create", "acme/web/production/App", "--slug", "app"]]) {
    const r = await ancla(args, as);
    if (r.code !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
  }
  browser = await launchBrowser();
  tab = await openTab(browser);
  const login = await tab.context.request.post(`${server.url}/api/v1/auth/login`, { data: { email: "admin", password: server.adminPassword }, headers: { origin: server.url } });
  if (login.status() !== 201) throw new Error(`login: ${login.status()}`);
}, 300_000);

afterAll(async () => {
  await tab?.close();
  await browser?.close();
  await server?.stop();
}, 300_000);

describe("Settings → Volumes", () => {
  test("add a volume, see the API's error on a bad path, remove it; admins see the exec sessions section", async () => {
    const { page } = tab;
    await step(page, "volumes-panel", async () => {
      await page.goto(server.url + SERVICE + "/settings");
      const section = page.getByRole("region", { name: "Volumes" });
      await section.getByText("No volumes").waitFor();
      const f = section.getByRole("form", { name: "Add a volume" });
      await f.getByLabel("Name").fill("data");
      await f.getByLabel("Mount path").fill("/proc/x");
      await f.getByRole("button", { name: "Add volume" }).click();
      await f.getByText("may not be a system path", { exact: false }).waitFor();
      expect(await volumes()).toEqual([]);
      await f.getByLabel("Mount path").fill("/data");
      await f.getByLabel("Size hint").fill("5Gi");
      await f.getByRole("button", { name: "Add volume" }).click();
      const serviceId = ((await (await fetch(`${server.url}/api/v1${SERVICE}`, { headers: { "x-api-key": server.adminKey } })).json()) as { id: string }).id;
      await section.getByRole("cell", { name: `ancla-vol-${serviceId}-data` }).waitFor();
      expect(await volumes()).toEqual([expect.objectContaining({ name: "data", mount_path: "/data", size_hint: "5Gi" })]);
      page.once("dialog", (d) => void d.accept());
      await section.getByRole("button", { name: "Remove data" }).click();
      await section.getByText("No volumes").waitFor();
      expect(await volumes()).toEqual([]);
      await page.getByRole("region", { name: "Exec sessions" }).getByText("Nobody has opened a shell", { exact: false }).waitFor();
      expect(realProblems(tab.problems)).toEqual([]);
    });
  });
});
