// The dashboard's config forms keep the user's Secret choice after a save: a second variable typed
// right after a secret is stored as a secret too (form.reset() used to untick the box, so it went
// in plain text), and an unticked box stays unticked. Real Chromium against a live `ancla serve`.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser } from "playwright-core";
import { ancla, startLiveServer, type LiveServer } from "../support/server";
import { ensureDashboardBuilt, launchBrowser, openTab, realProblems, step, type Tab } from "../support/browser";

// a browser flow against a live server
setDefaultTimeout(300_000);
let server: LiveServer;
let browser: Browser;
let tab: Tab;
const CANARY = "canary-" + crypto.randomUUID();
const SERVICE = "/orgs/acme/projects/web/envs/production/services/app";

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
  const login = await tab.context.request.post(`${server.url}/api/v1/auth/login`, {
    data: { email: "admin", password: server.adminPassword },
    headers: { origin: server.url },
  });
  if (login.status() !== 201) throw new Error(`login: ${login.status()}`);
}, 300_000);

afterAll(async () => {
  await tab?.close();
  await browser?.close();
  await server?.stop();
}, 300_000);

/** name → secret flag of the service's variables, from the API. */
async function storedSecrecy(): Promise<Record<string, boolean>> {
  const res = await fetch(`${server.url}/api/v1${SERVICE}/config`, { headers: { "x-api-key": server.adminKey } });
  const body = (await res.json()) as { name: string; secret: boolean }[] | { items: { name: string; secret: boolean }[] };
  const items = Array.isArray(body) ? body : body.items;
  return Object.fromEntries(items.map((v) => [v.name, v.secret]));
}

describe("config form", () => {
  test("after saving a secret, Secret stays ticked and the next variable is stored as a secret", async () => {
    const { page } = tab;
    await step(page, "secret-stays-ticked", async () => {
      await page.goto(server.url + SERVICE + "/environment");
      const section = page.getByRole("region", { name: "Service config" });
      await section.getByText("Set a variable").click();
      const f = section.getByRole("form", { name: "Set a service variable" });
      const secret = f.getByLabel("Secret (encrypted, never displayed)");
      expect(await secret.isChecked()).toBe(true);
      for (const name of ["FIRST_SECRET", "SECOND_SECRET"]) {
        // the second round touches only Name and Value, as a user adding variables one after another would
        await f.getByLabel("Name").fill(name);
        await f.getByLabel("Value").fill(`${CANARY}-${name}`);
        await f.getByRole("button", { name: "Save variable" }).click();
        await section.getByRole("cell", { name, exact: true }).first().waitFor();
        expect(await secret.isChecked()).toBe(true);
        expect(await f.getByLabel("Value").getAttribute("type")).toBe("password");
        expect(await f.getByLabel("Value").inputValue()).toBe(""); // typed values never linger
        expect(await f.getByLabel("Name").inputValue()).toBe("");
      }
      expect(await storedSecrecy()).toMatchObject({ FIRST_SECRET: true, SECOND_SECRET: true });
      expect(await page.content()).not.toContain(CANARY);
      expect(tab.apiBodies.join("\n")).not.toContain(CANARY);
    });
  });

  test("an unticked Secret stays unticked after saving (the user's choice, either way)", async () => {
    const { page } = tab;
    await step(page, "plain-stays-plain", async () => {
      const section = page.getByRole("region", { name: "Service config" });
      const f = section.getByRole("form", { name: "Set a service variable" });
      const secret = f.getByLabel("Secret (encrypted, never displayed)");
      await secret.uncheck();
      expect(await f.getByLabel("Value").getAttribute("type")).toBe("text");
      for (const name of ["PLAIN_ONE", "PLAIN_TWO"]) {
        await f.getByLabel("Name").fill(name);
        await f.getByLabel("Value").fill("visible");
        await f.getByRole("button", { name: "Save variable" }).click();
        await section.getByRole("cell", { name, exact: true }).first().waitFor();
        expect(await secret.isChecked()).toBe(false);
      }
      expect(await storedSecrecy()).toMatchObject({ PLAIN_ONE: false, PLAIN_TWO: false });
    });
  });

  test(".env import keeps 'Import as secrets' ticked for the next import", async () => {
    const { page } = tab;
    await step(page, "import-keeps-secret", async () => {
      const section = page.getByRole("region", { name: "Service config" });
      await section.getByText("Import a .env file").click();
      const f = section.getByRole("form", { name: "Import service variables from .env" });
      const asSecrets = f.getByLabel("Import as secrets");
      await asSecrets.check();
      for (const name of ["IMPORTED_A", "IMPORTED_B"]) {
        await f.getByLabel("Paste a .env file").fill(`${name}=${CANARY}\n`);
        await f.getByRole("button", { name: "Import" }).click();
        await section.getByRole("cell", { name, exact: true }).first().waitFor();
        expect(await asSecrets.isChecked()).toBe(true);
        expect(await f.getByLabel("Paste a .env file").inputValue()).toBe("");
      }
      expect(await storedSecrecy()).toMatchObject({ IMPORTED_A: true, IMPORTED_B: true });
      expect(realProblems(tab.problems)).toEqual([]);
    });
  });
});
