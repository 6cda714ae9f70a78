// A service's HTTPS token never travels in clear text: over plain http it is sent only to a git
// server on this machine (loopback); any other http remote fails the build with a clear message.
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { testApp, type TestApp } from "../support/app";
import { gitAuthFor } from "../../src/modules/integrations/git-credentials";
import type { GitRemote } from "../../src/lib/git-source";

setDefaultTimeout(180_000);

const TOKEN = "ghp_transportcheck0123456789";
let t: TestApp;
let serviceId: string;
let dir: string;
beforeAll(async () => {
  t = await testApp();
  dir = mkdtempSync(join(tmpdir(), "ancla-git-token-"));
  const key = (await t.user("owner")).key;
  expect((await t.req("POST", "/api/v1/organizations", { name: "acme", slug: "acme" }, { key })).status).toBe(201);
  expect((await t.req("POST", "/api/v1/orgs/acme/projects", { name: "Web", slug: "web" }, { key })).status).toBe(201);
  const svc = await t.req("POST", "/api/v1/orgs/acme/projects/web/envs/production/services", { name: "app" }, { key });
  expect(svc.status).toBe(201);
  serviceId = svc.body.id;
  expect((await t.req("POST", "/api/v1/orgs/acme/projects/web/envs/production/services/app/git-token", { token: TOKEN }, { key })).status).toBe(200);
});
afterAll(() => {
  t?.close();
  rmSync(dir, { recursive: true, force: true });
});

const remote = (transport: "http" | "https", host: string): GitRemote =>
  ({ transport, url: `${transport}://${host}/acme/app.git`, host, port: transport === "https" ? 443 : 80, user: "", path: "/acme/app.git", scpLike: false }) as GitRemote;

test("the token goes with https remotes and with http to loopback", () => {
  for (const r of [remote("https", "git.example.com"), remote("http", "127.0.0.1"), remote("http", "localhost")]) {
    const auth = gitAuthFor(t.deps, serviceId, r, dir);
    expect(auth?.env?.GIT_CONFIG_VALUE_0).toStartWith("Authorization: Basic ");
  }
});

test("a plain-http remote elsewhere is refused, naming the fix, and the token is not in the message", () => {
  let message = "";
  try {
    gitAuthFor(t.deps, serviceId, remote("http", "git.example.com"), dir);
  } catch (e) {
    message = (e as Error).message;
  }
  expect(message).toContain("only sent over https");
  expect(message).toContain("https://");
  expect(message).not.toContain(TOKEN);
});
