// `ancla link` / `unlink` against a live server: the link is checked before it is written, commands
// without a target use it (also from subdirectories), unlink removes it.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ancla, startLiveServer, type LiveServer } from "../support/server";

setDefaultTimeout(300_000);

let s: LiveServer;
let dir: string;
const cli = (args: string[], cwd = dir, key = s.adminKey) => ancla(args, { home: s.home, cwd, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: key } });
const api = (method: string, path: string, body?: unknown) =>
  fetch(s.url + path, { method, headers: { "x-api-key": s.adminKey, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

beforeAll(async () => {
  s = await startLiveServer();
  expect((await api("POST", "/api/v1/organizations", { name: "linkorg", slug: "linkorg" })).status).toBe(201);
  expect((await api("POST", "/api/v1/orgs/linkorg/projects", { name: "Web", slug: "web" })).status).toBe(201);
  expect((await api("POST", "/api/v1/orgs/linkorg/projects/web/envs/production/services", { name: "site" })).status).toBe(201);
  dir = mkdtempSync(join(tmpdir(), "ancla-link-"));
});
afterAll(async () => {
  await s?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const file = () => join(dir, ".ancla", "config.yaml");

describe("link", () => {
  test("an unknown target is refused (404 exit code) and nothing is written", async () => {
    const r = await cli(["link", "linkorg/web/production/nope"]);
    expect(r.code).toBe(4);
    expect(r.stderr).toContain("not found");
    expect(existsSync(file())).toBe(false);
    const bad = await cli(["link", "linkorg/../x"]);
    expect(bad.code).toBe(2);
    expect((await cli(["link"])).code).toBe(2);
    expect((await cli(["link", "a/b/c/d/e"])).code).toBe(2);
    expect(existsSync(file())).toBe(false);
  });

  test("link org/project/env/service writes .ancla/config.yaml; target-less commands use it, from subdirectories too", async () => {
    const r = await cli(["link", "linkorg/web/production/site"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("linked");
    const text = readFileSync(file(), "utf8");
    expect(text).toContain("org: linkorg");
    expect(text).toContain("project: web");
    expect(text).toContain("env: production");
    expect(text).toContain("service: site");
    expect(text).not.toContain(s.adminKey);

    mkdirSync(join(dir, "sub", "deeper"), { recursive: true });
    const status = await cli(["status", "--json"], join(dir, "sub", "deeper"));
    expect(status.code).toBe(0);
    expect(status.json()).toMatchObject({ service: { slug: "site" }, status: { build: null, release: null, deploy: null }, url: null });
    const svc = await cli(["services", "get"], join(dir, "sub"));
    expect(svc.code).toBe(0);
    expect(svc.stdout).toMatch(/^slug:\s+site$/m);
  });

  test("link to an org or project only: commands needing a service say what is missing", async () => {
    expect((await cli(["link", "linkorg/web"])).code).toBe(0);
    const text = readFileSync(file(), "utf8");
    expect(text).toContain("project: web");
    expect(text).not.toContain("service:");
    const r = await cli(["status"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("missing env");
    // the trailing parts from the argument, the leading ones from the link
    expect((await cli(["status", "production/site", "--json"])).json().service.slug).toBe("site");
  });

  test("unlink removes the link but keeps other settings in the file", async () => {
    writeFileSync(file(), readFileSync(file(), "utf8") + "server: " + s.url + "\n");
    const r = await cli(["unlink"]);
    expect(r.code).toBe(0);
    const text = readFileSync(file(), "utf8");
    expect(text).not.toContain("org:");
    expect(text).toContain("server:");
    expect((await cli(["status"])).code).toBe(2);
    expect((await cli(["unlink"])).stdout).toContain("not linked");
    // a file with nothing but the link goes away entirely
    expect((await cli(["link", "linkorg"])).code).toBe(0);
    rmSync(file());
    expect((await cli(["link", "linkorg"])).code).toBe(0);
    expect((await cli(["unlink"])).code).toBe(0);
    expect(existsSync(file())).toBe(false);
  });
});
