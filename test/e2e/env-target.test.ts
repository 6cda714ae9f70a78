// The dashboard's environment Target section in real Chromium against a live `ancla serve`: moving
// an environment to a Kubernetes cluster by pasting a kubeconfig shows the cluster's server, the
// default namespace and a fingerprint — never the token — and "Check connection" says which part
// failed. The page passes axe (serious/critical).
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import type { Browser } from "playwright-core";
import { ancla, startLiveServer, type LiveServer } from "../support/server";
import { axeViolations, ensureDashboardBuilt, launchBrowser, openTab, step, type Tab } from "../support/browser";

setDefaultTimeout(300_000);
let server: LiveServer;
let browser: Browser;
let tab: Tab;
const TOKEN = "dash-kube-token-" + crypto.randomUUID();
const PASSWORD = "dash-registry-" + crypto.randomUUID();
const ENV = "/orgs/acme/projects/web/envs/staging";
let kubeconfig = "";

beforeAll(async () => {
  ensureDashboardBuilt();
  server = await startLiveServer();
  const as = { home: server.home, env: { ANCLA_SERVER: server.url, ANCLA_API_KEY: server.adminKey } };
  for (const args of [["orgs", "create", "Acme", "--slug", "acme"], ["projects", "create", "acme/Web", "--slug", "web"], ["envs", "create", "acme/web/staging"]]) {
    const r = await ancla(args, as);
    if (r.code !== 0) throw new Error(`${args.join(" ")}: ${r.stderr}`);
  }
  const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = probe.port;
  probe.stop(true);
  kubeconfig = `apiVersion: v1
kind: Config
clusters:
- name: c
  cluster: { server: "https://127.0.0.1:${port}" }
users:
- name: u
  user: { token: "${TOKEN}" }
contexts:
- name: main
  context: { cluster: c, user: u }
current-context: main
`;
  browser = await launchBrowser();
  tab = await openTab(browser, { bypassCSP: true }); // axe-core is injected as a script
  const login = await tab.context.request.post(`${server.url}/api/v1/auth/login`, { data: { email: "admin", password: server.adminPassword }, headers: { origin: server.url } });
  if (login.status() !== 201) throw new Error(`login: ${login.status()}`);
}, 300_000);

afterAll(async () => {
  await tab?.close();
  await browser?.close();
  await server?.stop();
}, 300_000);

describe("environment target", () => {
  test("switch to kubernetes with a kubeconfig and a registry; the summary shows the cluster, never the credentials", async () => {
    const { page } = tab;
    await step(page, "env-target-kubernetes", async () => {
      await page.goto(server.url + ENV);
      const section = page.getByRole("region", { name: "Target" });
      await section.getByText("Services run on this host's Docker engine.").waitFor();
      await section.getByText("Change the target").click();
      const f = section.getByRole("form", { name: "Target settings" });
      await f.getByLabel("Target").selectOption("kubernetes");
      await f.getByLabel(/^Kubeconfig/).fill(kubeconfig);
      await f.getByLabel("Registry", { exact: true }).fill("127.0.0.1:5000");
      await f.getByLabel("Registry username (optional)").fill("ci");
      await f.getByLabel("Registry password").fill(PASSWORD);
      await f.getByRole("button", { name: "Save target" }).click();
      await section.getByRole("cell", { name: "ancla-acme-web-staging" }).waitFor();
      await section.getByRole("cell", { name: /^https:\/\/127\.0\.0\.1:\d+$/ }).waitFor();
      await section.getByRole("cell", { name: /^sha256:[0-9a-f]{16}$/ }).waitFor();
      await section.getByRole("cell", { name: "ci (password set)" }).waitFor();
      expect(await f.getByLabel(/^Kubeconfig/).inputValue()).toBe(""); // never lingers in the page
      expect(await f.getByLabel(/^Registry password/).inputValue()).toBe("");
      await page.reload();
      await page.getByRole("region", { name: "Target" }).getByRole("cell", { name: "ancla-acme-web-staging" }).waitFor();
      const html = await page.content();
      expect(html).not.toContain(TOKEN);
      expect(html).not.toContain(PASSWORD);
      expect(tab.apiBodies.join("\n")).not.toContain(TOKEN);
    });
  });

  test("a bad kubeconfig is refused next to the field, and the stored settings stay", async () => {
    const { page } = tab;
    await step(page, "env-target-refused", async () => {
      const section = page.getByRole("region", { name: "Target" });
      await section.getByText("Change the target").click();
      const f = section.getByRole("form", { name: "Target settings" });
      await f.getByLabel(/^Kubeconfig/).fill(kubeconfig.replace(`user: { token: "${TOKEN}" }`, "user: { exec: { command: aws } }"));
      await f.getByRole("button", { name: "Save target" }).click();
      await f.getByText(/not supported; use a token or client certificate/).first().waitFor();
      const api = await (await fetch(`${server.url}/api/v1${ENV}`, { headers: { "x-api-key": server.adminKey } })).json();
      expect(api).toMatchObject({ target: "kubernetes", registry_username: "ci" });
    });
  });

  test("check connection names the API server it cannot reach; the page passes axe", async () => {
    const { page } = tab;
    await step(page, "env-target-check", async () => {
      const section = page.getByRole("region", { name: "Target" });
      await section.getByRole("button", { name: "Check connection" }).click();
      await section.getByText("Something does not work:").waitFor();
      await section.getByRole("cell", { name: /^cannot reach the API server/ }).waitFor();
      await section.getByRole("cell", { name: "API server", exact: true }).waitFor();
      expect(await axeViolations(page)).toEqual([]);
    });
  });

  test("an organization member sees the target but no Check connection button (the check is admin-only: 403)", async () => {
    const admin = { "x-api-key": server.adminKey, "content-type": "application/json" };
    const password = "member-password-" + crypto.randomUUID();
    const made = await fetch(`${server.url}/api/v1/admin/users`, { method: "POST", headers: admin, body: JSON.stringify({ username: "mia", email: "mia@example.test", password }) });
    expect(made.status).toBe(201);
    expect((await fetch(`${server.url}/api/v1/organizations/acme/members`, { method: "POST", headers: admin, body: JSON.stringify({ username: "mia", admin: false }) })).status).toBe(201);
    const member = await openTab(browser);
    try {
      const login = await member.context.request.post(`${server.url}/api/v1/auth/login`, { data: { email: "mia", password }, headers: { origin: server.url } });
      expect(login.status()).toBe(201);
      expect((await member.context.request.post(`${server.url}/api/v1${ENV}/check`, { data: {}, headers: { origin: server.url } })).status()).toBe(403);
      await step(member.page, "env-target-member", async () => {
        await member.page.goto(server.url + ENV);
        const section = member.page.getByRole("region", { name: "Target" });
        await section.getByText("Change the target").waitFor();
        expect(await section.getByRole("button", { name: "Check connection" }).count()).toBe(0);
      });
    } finally {
      await member.close();
    }
  });
});
