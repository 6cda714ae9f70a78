// `ancla login` for real: the CLI process runs, the test plays the browser (Chromium) on the
// printed URL, signs in, compares the code and authorizes; the key lands in ~/.ancla/config.yaml.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse } from "yaml";
import type { Browser } from "playwright-core";
import { ancla, anclaCommand, cleanEnv, startLiveServer, type LiveServer } from "../support/server";
import { ensureDashboardBuilt, launchBrowser, openTab, realProblems, screenshot, step, type Tab } from "../support/browser";

// `.ci/run` calls plain `bun test` (5 s default); a browser flow needs more
setDefaultTimeout(300_000);
let server: LiveServer;
let browser: Browser;
let admin: { email: string; password: string };
const homes: string[] = [];

const newHome = () => {
  const h = mkdtempSync(join(tmpdir(), "ancla-login-home-"));
  homes.push(h);
  return h;
};

/** Start `ancla login` and wait until it printed its URL and code (on stderr). */
async function startLogin(home: string, extra: string[] = [], env: Record<string, string> = {}) {
  const proc = Bun.spawn([...anclaCommand(), "login", "--server", server.url, "--no-browser", ...extra], {
    cwd: home,
    env: cleanEnv({ HOME: home, DISPLAY: undefined, WAYLAND_DISPLAY: undefined, ...env }),
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const err = { text: "" };
  const stdout = new Response(proc.stdout).text();
  const decoder = new TextDecoder();
  const reader = (proc.stderr as ReadableStream<Uint8Array>).getReader();
  const stderrDone = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      err.text += decoder.decode(value, { stream: true });
    }
  })();
  const deadline = Date.now() + 60_000;
  while (!/\/cli-auth\?\S+/.test(err.text) && Date.now() < deadline && proc.exitCode === null) await Bun.sleep(50);
  const url = /(http:\/\/\S+\/cli-auth\?\S+)/.exec(err.text)?.[1];
  const code = /confirmation code: ([A-Z0-9]{4}-[A-Z0-9]{4})/.exec(err.text)?.[1];
  if (!url || !code) throw new Error(`ancla login printed no URL/code:\n${err.text}`);
  const finished = async () => {
    const exit = await proc.exited;
    await stderrDone;
    return { code: exit, stdout: await stdout, stderr: err.text };
  };
  return { proc, url, code, finished };
}

async function signIn(tab: Tab) {
  await tab.page.getByLabel("Email or username").fill(admin.email);
  await tab.page.getByLabel("Password").fill(admin.password);
  await tab.page.getByRole("button", { name: "Sign in" }).click();
}

beforeAll(async () => {
  ensureDashboardBuilt();
  server = await startLiveServer();
  const text = readFileSync(join(server.dataDir, "initial-admin.txt"), "utf8");
  admin = { email: /email: (\S+)/.exec(text)![1]!, password: /password: (\S+)/.exec(text)![1]! };
  browser = await launchBrowser();
}, 300_000);

afterAll(async () => {
  await browser?.close();
  await server?.stop();
  for (const h of homes) rmSync(h, { recursive: true, force: true });
}, 300_000);

describe("ancla login (browser)", () => {
  test("sign in, compare the code, authorize: the CLI exits 0 and saves a working key (0600)", async () => {
    const home = newHome();
    const login = await startLogin(home);
    const port = Number(new URL(login.url).searchParams.get("port"));
    expect(port).toBeGreaterThanOrEqual(1024);
    expect(new URL(login.url).origin).toBe(server.url);
    const tab = await openTab(browser);
    try {
      await step(tab.page, "cli-login", async () => {
        await tab.page.goto(login.url);
        await signIn(tab); // not signed in yet: the page asks first, then resumes
        await tab.page.getByRole("heading", { name: "Authorize the Ancla CLI" }).waitFor();
        const shown = (await tab.page.locator(".code").textContent())?.trim();
        expect(shown).toBe(login.code);
        await screenshot(tab.page, "13-cli-authorize");
        await tab.page.getByRole("button", { name: "Authorize" }).click();
        await tab.page.waitForURL((u) => u.origin === `http://127.0.0.1:${port}` && u.pathname === "/callback");
        await tab.page.getByRole("heading", { name: "Logged in" }).waitFor();
        expect(realProblems(tab.problems)).toEqual([]);
      });
    } finally {
      await tab.close();
    }
    const result = await login.finished();
    expect(result.code).toBe(0);
    expect(result.stdout).toContain("Logged in");
    const file = join(home, ".ancla", "config.yaml");
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const saved = parse(readFileSync(file, "utf8"));
    const key = String(saved.api_key);
    expect(key).toMatch(/^ancla_[0-9A-Za-z]{40}$/);
    expect({ server: saved.server, username: saved.username }).toEqual({ server: server.url, username: "admin" });
    // the key never reaches the terminal
    expect(result.stdout + result.stderr).not.toContain(key);
    const who = await ancla(["whoami", "--json"], { home });
    expect(who.code).toBe(0);
    expect(who.json()).toMatchObject({ server: server.url, user: { username: "admin" } });
    // the key is named after the CLI
    const keys = await fetch(server.url + "/api/keys", { headers: { "x-api-key": key } }).then((r) => r.json());
    expect(keys.items.some((k: { name: string }) => k.name.startsWith("ancla CLI"))).toBe(true);
  });

  test("Deny: no key is created and the CLI fails with a clear message", async () => {
    const home = newHome();
    const login = await startLogin(home);
    const before = (await fetch(server.url + "/api/keys", { headers: { "x-api-key": server.adminKey } }).then((r) => r.json())).total;
    const tab = await openTab(browser);
    try {
      await tab.page.goto(login.url);
      await signIn(tab);
      await tab.page.getByRole("button", { name: "Deny" }).click();
      await tab.page.waitForURL((u) => u.hostname === "127.0.0.1" && u.pathname === "/callback");
    } finally {
      await tab.close();
    }
    const result = await login.finished();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("denied");
    expect(existsSync(join(home, ".ancla", "config.yaml"))).toBe(false);
    const after = (await fetch(server.url + "/api/keys", { headers: { "x-api-key": server.adminKey } }).then((r) => r.json())).total;
    expect(after).toBe(before);
  });

  test("invalid code or port → error page (422), never a redirect", async () => {
    const tab = await openTab(browser);
    const visited: string[] = [];
    tab.page.on("request", (r) => visited.push(r.url()));
    try {
      await tab.page.goto(server.url + "/login");
      await signIn(tab);
      await tab.page.getByRole("heading", { name: "Organizations" }).waitFor();
      for (const query of ["code=abcd-1234&port=5000", "code=ABCD-1234&port=80", "code=ABCD-1234&port=70000", "code=ABCD-1234&port=evil.com", "code=ABCD-1234", "port=5000", "code=ABCD-12345&port=5000"]) {
        await step(tab.page, "cli-auth-invalid", async () => {
          const res = await tab.page.goto(`${server.url}/cli-auth?${query}`);
          expect({ query, status: res!.status() }).toEqual({ query, status: 422 });
          await tab.page.getByRole("heading", { name: "Invalid CLI sign-in link" }).waitFor();
          expect(await tab.page.getByRole("button", { name: "Authorize" }).count()).toBe(0);
          expect(new URL(tab.page.url()).origin).toBe(server.url);
        });
      }
      await screenshot(tab.page, "14-cli-auth-invalid");
      expect(visited.filter((u) => new URL(u).origin !== server.url)).toEqual([]);
      expect(realProblems(tab.problems)).toEqual([]);
    } finally {
      await tab.close();
    }
  });

  test("the authorize route validates code and port (422 naming the field) and creates nothing", async () => {
    const post = (body: unknown) =>
      fetch(server.url + "/api/v1/auth/cli-authorize", { method: "POST", headers: { "x-api-key": server.adminKey, "content-type": "application/json" }, body: JSON.stringify(body) });
    const count = async () => (await fetch(server.url + "/api/keys", { headers: { "x-api-key": server.adminKey } }).then((r) => r.json())).total;
    const before = await count();
    for (const [body, path] of [
      [{ code: "ABCD-1234", port: 80 }, "port"],
      [{ code: "ABCD-1234", port: 65536 }, "port"],
      [{ code: "ABCD-1234", port: "x" }, "port"],
      [{ code: "abcd-1234", port: 5000 }, "code"],
      [{ code: "ABCD-1234; rm -rf /", port: 5000 }, "code"],
      [{ code: "ABCD-1234", port: 5000, host: "evil.com/x?" }, "host"],
    ] as const) {
      const r = await post(body);
      expect(r.status).toBe(422);
      const j = await r.json();
      expect(j.errors.map((e: { path: string }) => e.path)).toContain(path);
    }
    expect((await fetch(server.url + "/api/v1/auth/cli-authorize", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status).toBe(401);
    expect(await count()).toBe(before);
    const ok = await post({ code: "ABCD-1234", port: 5000, host: "laptop" });
    expect(ok.status).toBe(201);
    const j = await ok.json();
    expect(j.name).toBe("ancla CLI on laptop");
    const target = new URL(j.redirect_url);
    expect(target.origin).toBe("http://127.0.0.1:5000");
    expect(target.pathname).toBe("/callback");
    expect(target.searchParams.get("code")).toBe("ABCD-1234");
    expect(target.searchParams.get("username")).toBe("admin");
    expect(target.searchParams.get("api_key")).toMatch(/^ancla_/);
  });

  test("no answer from the browser: the CLI times out and suggests --manual", async () => {
    const home = newHome();
    const login = await startLogin(home, [], { ANCLA_LOGIN_TIMEOUT: "1" });
    const result = await login.finished();
    expect(result.code).not.toBe(0);
    expect(result.stderr).toContain("ancla login --manual");
    expect(existsSync(join(home, ".ancla", "config.yaml"))).toBe(false);
  });

  test("an unreachable server fails fast, before any browser is involved", async () => {
    const home = newHome();
    const probe = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("x") });
    const deadPort = probe.port;
    probe.stop(true);
    const started = Date.now();
    const r = await ancla(["login", "--no-browser", "--server", `http://127.0.0.1:${deadPort}`], { home });
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("cannot reach the Ancla server");
    expect(r.stderr).not.toContain("/cli-auth?");
    expect(Date.now() - started).toBeLessThan(30_000); // refused at once; only a hang reaches this
  });
});

describe("ancla login --manual", () => {
  test("reads the key from stdin, verifies it against the server, saves it", async () => {
    const home = newHome();
    const r = await ancla(["login", "--manual", "--server", server.url], { home, stdin: server.adminKey + "\n" });
    expect(r.code).toBe(0);
    expect(parse(readFileSync(join(home, ".ancla", "config.yaml"), "utf8"))).toMatchObject({ server: server.url, api_key: server.adminKey });
  });

  test("a malformed or unknown key is refused and nothing is saved", async () => {
    const home = newHome();
    const bad = await ancla(["login", "--manual", "--server", server.url], { home, stdin: "not-a-key\n" });
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toContain("not an Ancla API key");
    const unknown = await ancla(["login", "--manual", "--server", server.url], { home, stdin: "ancla_" + "x".repeat(40) + "\n" });
    expect(unknown.code).toBe(3);
    expect(unknown.stderr).not.toContain("x".repeat(40));
    expect(existsSync(join(home, ".ancla", "config.yaml"))).toBe(false);
  });

});
