// Ancla as the token server of a real registry (issue 13): Debian's docker-registry (distribution
// 2.8) configured with auth.token (realm = this `ancla serve`, rootcertbundle = its signing
// certificate), and the real Docker CLI logging in with an Ancla username + API key. An org's
// repository can be pushed and pulled by its members, not by another org's; a revoked key is
// refused; a read-only key may pull but not push.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ancla, startLiveServer, type LiveServer } from "../support/server";
import { ensureBaseImage, BASE_IMAGE } from "../support/docker";
import { DOCKER_REGISTRY, requireRegistry } from "../support/registry";
import { freePort } from "../support/raw-http";

setDefaultTimeout(300_000);

const SERVICE = "ancla-test-registry";
let server: LiveServer;
let dir: string;
let registry: Subprocess;
let host: string;
let registryErr = "";
const keys: Record<string, string> = {};
const pushed: string[] = [];

async function api(method: string, path: string, key: string, body?: unknown) {
  const res = await fetch(server.url + path, { method, headers: { "x-api-key": key, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  const text = await res.text();
  return { status: res.status, body: text ? JSON.parse(text) : undefined, text };
}

async function newKey(username: string, name: string): Promise<string> {
  const r = await ancla(["admin", "create-key", username, "--data-dir", server.dataDir, "--name", name], { home: server.home });
  if (r.code !== 0) throw new Error(r.stderr);
  return r.stdout.trim().split("\n").pop()!;
}

/** The docker CLI with its own config dir (credentials never touch the machine's ~/.docker). */
async function docker(config: string, args: string[], stdin?: string) {
  const proc = Bun.spawn(["docker", "--config", config, ...args], { stdin: stdin === undefined ? "ignore" : new TextEncoder().encode(stdin), stdout: "pipe", stderr: "pipe" });
  const [stdout, stderr, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  return { code, out: stdout + stderr };
}
const configDir = (who: string) => {
  const d = join(dir, `docker-${who}`);
  Bun.spawnSync(["mkdir", "-p", d]);
  return d;
};
const login = (who: string, username: string, key: string) => docker(configDir(who), ["login", host, "-u", username, "--password-stdin"], key);

beforeAll(async () => {
  requireRegistry();
  await ensureBaseImage();
  dir = mkdtempSync(join(tmpdir(), "ancla-regtoken-"));
  server = await startLiveServer();
  for (const u of ["alice", "bob"]) {
    const r = await api("POST", "/api/v1/admin/users", server.adminKey, { username: u, email: `${u}@example.test`, password: `password-${u}-123` });
    expect(r.status).toBe(201);
    keys[u] = await newKey(u, "docker");
  }
  expect((await api("POST", "/api/v1/organizations", keys.alice!, { name: "Acme" })).status).toBe(201);
  expect((await api("POST", "/api/v1/organizations", keys.bob!, { name: "Other" })).status).toBe(201);

  const cert = await fetch(`${server.url}/api/v1/integrations/signing-cert`);
  expect(cert.status).toBe(200);
  const pem = ((await cert.json()) as { certificate: string }).certificate;
  expect(pem).toStartWith("-----BEGIN CERTIFICATE-----");
  writeFileSync(join(dir, "token-cert.pem"), pem);
  const port = freePort();
  host = `127.0.0.1:${port}`;
  writeFileSync(
    join(dir, "config.yml"),
    [
      "version: 0.1",
      "log:",
      "  level: warn",
      "  accesslog:",
      "    disabled: true",
      "storage:",
      "  filesystem:",
      `    rootdirectory: ${join(dir, "data")}`,
      "http:",
      `  addr: ${host}`,
      `  secret: ${crypto.randomUUID()}`,
      "auth:",
      "  token:",
      `    realm: ${server.url}/api/v1/integrations/docker/auth`,
      `    service: ${SERVICE}`,
      "    issuer: ancla",
      `    rootcertbundle: ${join(dir, "token-cert.pem")}`,
      "",
    ].join("\n"),
  );
  registry = Bun.spawn([DOCKER_REGISTRY, "serve", join(dir, "config.yml")], { stdout: "ignore", stderr: "pipe" });
  void (async () => {
    const dec = new TextDecoder();
    for await (const c of registry.stderr as ReadableStream<Uint8Array>) registryErr += dec.decode(c);
  })();
  for (let i = 0; ; i++) {
    if (registry.exitCode !== null) throw new Error(`docker-registry exited: ${registryErr}`);
    const res = await fetch(`http://${host}/v2/`).catch(() => undefined);
    if (res?.status === 401) {
      // the registry names Ancla as its realm
      expect(res.headers.get("www-authenticate")).toBe(`Bearer realm="${server.url}/api/v1/integrations/docker/auth",service="${SERVICE}"`);
      break;
    }
    if (i > 200) throw new Error(`docker-registry did not answer: ${registryErr}`);
    await Bun.sleep(50);
  }
});

afterAll(async () => {
  for (const ref of pushed) Bun.spawnSync(["docker", "rmi", "-f", ref], { stdout: "ignore", stderr: "ignore" });
  if (registry && registry.exitCode === null) {
    registry.kill("SIGTERM");
    await Promise.race([registry.exited, Bun.sleep(5000)]);
    if (registry.exitCode === null) registry.kill("SIGKILL");
  }
  await server?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("docker login, push and pull through Ancla's token server", () => {
  test("a member logs in with username + API key and pushes and pulls the org's repository", async () => {
    const l = await login("alice", "alice", keys.alice!);
    expect(l.out).toContain("Login Succeeded");
    const ref = `${host}/acme/app:v1`;
    pushed.push(ref);
    expect((await docker(configDir("alice"), ["tag", BASE_IMAGE, ref])).code).toBe(0);
    const push = await docker(configDir("alice"), ["push", ref]);
    expect([push.code, push.out]).toEqual([0, expect.stringContaining("v1: digest: sha256:")]);
    expect((await docker(configDir("alice"), ["rmi", ref])).code).toBe(0);
    const pull = await docker(configDir("alice"), ["pull", ref]);
    expect([pull.code, pull.out]).toEqual([0, expect.stringContaining(`Downloaded newer image for ${ref}`)]);
  });

  test("another organization's member is denied push and pull of that repository but may use its own", async () => {
    expect((await login("bob", "bob", keys.bob!)).out).toContain("Login Succeeded");
    const theirs = `${host}/acme/app:v1`;
    const pull = await docker(configDir("bob"), ["pull", theirs]);
    expect(pull.code).not.toBe(0);
    expect(pull.out).toMatch(/denied|unauthorized|not found/i);
    const intruder = `${host}/acme/app:bob`;
    pushed.push(intruder);
    await docker(configDir("bob"), ["tag", BASE_IMAGE, intruder]);
    const push = await docker(configDir("bob"), ["push", intruder]);
    expect(push.code).not.toBe(0);
    expect(push.out).toMatch(/denied|unauthorized/i);
    const own = `${host}/other/site:v1`;
    pushed.push(own);
    await docker(configDir("bob"), ["tag", BASE_IMAGE, own]);
    expect((await docker(configDir("bob"), ["push", own])).code).toBe(0);
  });

  test("a wrong username for the key, or a revoked key, cannot log in; a read-only key pulls but cannot push", async () => {
    expect((await login("mixed", "bob", keys.alice!)).code).not.toBe(0);

    const readOnly = await api("POST", "/api/keys", keys.alice!, { name: "ci-read", scopes: ["read"] });
    expect(readOnly.status).toBe(201);
    expect((await login("reader", "alice", readOnly.body.key)).out).toContain("Login Succeeded");
    expect((await docker(configDir("reader"), ["pull", `${host}/acme/app:v1`])).code).toBe(0);
    const ro = `${host}/acme/app:ro`;
    pushed.push(ro);
    await docker(configDir("reader"), ["tag", BASE_IMAGE, ro]);
    const push = await docker(configDir("reader"), ["push", ro]);
    expect(push.code).not.toBe(0);
    expect(push.out).toMatch(/denied|unauthorized/i);

    const temp = await newKey("alice", "short-lived");
    expect((await login("temp", "alice", temp)).out).toContain("Login Succeeded");
    const list = await api("GET", "/api/keys", keys.alice!);
    const id = (list.body.items ?? list.body).find((k: { name: string }) => k.name === "short-lived").key_id;
    expect((await api("POST", `/api/keys/${id}/revoke`, keys.alice!)).status).toBeLessThan(300);
    const again = await login("temp", "alice", temp);
    expect(again.code).not.toBe(0);
    const pull = await docker(configDir("temp"), ["pull", `${host}/acme/app:v1`]);
    expect(pull.code).not.toBe(0);
  });

  test("the key never appears in the server's output", () => {
    for (const k of Object.values(keys)) expect(server.output()).not.toContain(k);
  });
});
