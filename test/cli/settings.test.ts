// CLI settings against a live server: flag > env > nearest .ancla/config.yaml > ~/.ancla/config.yaml,
// whoami, logout, and clear failures without credentials or without a server.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { stringify } from "yaml";
import { ancla, startLiveServer, type LiveServer } from "../support/server";

// each test runs several CLI subprocesses against a live server; on a busy machine that can pass bun's default 5 s
setDefaultTimeout(300_000);

// a loopback port nothing listens on: "server unreachable" without leaving the machine
const DEAD = "http://127.0.0.1:1";
const BAD_KEY = "ancla_" + "x".repeat(40);

let s: LiveServer;
let root: string; // HOME; the project tree lives under it like a real checkout would
let project: string; // root/work/app with its own .ancla/config.yaml
let deep: string; // root/work/app/src/lib: nearest .ancla is two levels up

const writeYaml = (file: string, data: Record<string, string>) => {
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, stringify(data));
};
const userFile = () => join(root, ".ancla", "config.yaml");
const projectFile = () => join(project, ".ancla", "config.yaml");
const whoami = (args: string[], env: Record<string, string> = {}) => ancla(["whoami", "--json", ...args], { home: root, cwd: deep, env });

beforeAll(async () => {
  s = await startLiveServer();
  root = mkdtempSync(join(tmpdir(), "ancla-cli-home-"));
  project = join(root, "work", "app");
  deep = join(project, "src", "lib");
  mkdirSync(deep, { recursive: true });
});
afterAll(async () => {
  await s.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("credentials and server precedence", () => {
  test("no key anywhere → exit 3 with a hint, before any request", async () => {
    const r = await ancla(["orgs", "list"], { home: root, cwd: deep, env: { ANCLA_SERVER: s.url } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("not logged in");
    expect(r.stdout).toBe("");
  });

  test("~/.ancla/config.yaml alone is used", async () => {
    writeYaml(userFile(), { server: s.url, api_key: s.adminKey });
    const r = await whoami([]);
    expect(r.code).toBe(0);
    expect(r.json()).toMatchObject({ server: s.url, user: { username: "admin", admin: true } });
  });

  test("nearest .ancla/config.yaml wins over ~/.ancla/config.yaml (both server and key)", async () => {
    writeYaml(userFile(), { server: DEAD, api_key: BAD_KEY });
    writeYaml(projectFile(), { server: s.url, api_key: s.adminKey });
    expect((await whoami([])).code).toBe(0);
    // and the other way round: the project file's bad key is the one used
    writeYaml(userFile(), { server: s.url, api_key: s.adminKey });
    writeYaml(projectFile(), { api_key: BAD_KEY });
    const r = await whoami([]);
    expect(r.code).toBe(3);
    expect(r.stderr).toContain("project file");
    // a nearer .ancla/config.yaml shadows a farther one
    writeYaml(join(project, "src", ".ancla", "config.yaml"), { api_key: s.adminKey });
    expect((await whoami([])).code).toBe(0);
    rmSync(join(project, "src", ".ancla"), { recursive: true });
  });

  test("env wins over the nearest .ancla/config.yaml", async () => {
    writeYaml(projectFile(), { server: DEAD, api_key: BAD_KEY });
    expect((await whoami([], { ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey })).code).toBe(0);
    writeYaml(projectFile(), { server: s.url, api_key: s.adminKey });
    const r = await whoami([], { ANCLA_SERVER: DEAD });
    expect(r.code).toBe(7);
    expect(r.stderr).toContain("cannot reach the Ancla server at http://127.0.0.1:1");
  });

  test("flags win over env", async () => {
    const env = { ANCLA_SERVER: DEAD, ANCLA_API_KEY: BAD_KEY };
    expect((await whoami(["--server", s.url, "--api-key", s.adminKey], env)).code).toBe(0);
    const bad = await whoami(["--api-key", BAD_KEY], { ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey });
    expect(bad.code).toBe(3);
    expect(bad.stderr).toContain("flag");
    expect(bad.stderr).not.toContain(BAD_KEY); // a key never appears in an error
  });

  test("--config FILE replaces the discovered files", async () => {
    const file = join(root, "other.yaml");
    writeYaml(file, { server: s.url, api_key: s.adminKey });
    writeYaml(projectFile(), { server: DEAD, api_key: BAD_KEY });
    expect((await whoami(["--config", file])).code).toBe(0);
    rmSync(projectFile());
  });

  test("a malformed config file is a usage error naming the file", async () => {
    writeFileSync(projectFile(), "server: [unclosed\n");
    const r = await whoami([]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(projectFile());
    rmSync(projectFile());
  });

  test("a server that is not a URL is a usage error", async () => {
    const r = await whoami(["--server", "not a url"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("not a URL");
  });
});

describe("usage errors", () => {
  test("an unknown command or output format exits 2 and says why on stderr", async () => {
    const unknown = await ancla(["frobnicate"], { home: root });
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toContain('unknown command "frobnicate"');
    const format = await ancla(["orgs", "list", "-o", "yaml"], { home: root, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey } });
    expect(format.code).toBe(2);
    expect(format.stderr).toContain("table or json");
    expect(format.stdout).toBe("");
    expect((await ancla(["orgs", "get", "a", "b"], { home: root, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey } })).code).toBe(2);
  });
});

describe("whoami and logout", () => {
  test("whoami table form shows the user, the server and where the key came from", async () => {
    writeYaml(userFile(), { server: s.url, api_key: s.adminKey, org: "kept" });
    const r = await ancla(["whoami"], { home: root, cwd: deep });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^username:\s+admin$/m);
    expect(r.stdout).toMatch(/^server:\s+http:\/\/127\.0\.0\.1:\d+$/m);
    expect(r.stdout).toMatch(/^key_from:\s+user file$/m);
  });

  test("logout removes the key (file stays 0600, other settings kept); next command needs a login", async () => {
    const r = await ancla(["logout"], { home: root, cwd: deep });
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("logged out");
    const text = readFileSync(userFile(), "utf8");
    expect(text).not.toContain(s.adminKey);
    expect(text).toContain("org: kept");
    expect(statSync(userFile()).mode & 0o777).toBe(0o600);
    const after = await ancla(["orgs", "list"], { home: root, cwd: deep });
    expect(after.code).toBe(3);
    const again = await ancla(["logout", "--json"], { home: root, cwd: deep });
    expect(again.code).toBe(0);
    expect(again.json()).toEqual({ logged_out: false, file: userFile() });
  });

  test("a revoked or unknown key → exit 3; an unreachable server → exit 7 with no stack trace", async () => {
    const r = await ancla(["whoami"], { home: root, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: BAD_KEY } });
    expect(r.code).toBe(3);
    expect(r.stderr).toStartWith("error: ");
    const dead = await ancla(["orgs", "list", "--json"], { home: root, env: { ANCLA_SERVER: DEAD, ANCLA_API_KEY: BAD_KEY } });
    expect(dead.code).toBe(7);
    expect(JSON.parse(dead.stderr)).toMatchObject({ message: expect.stringContaining("cannot reach") });
    expect(dead.stderr).not.toContain("    at ");
  });
});
