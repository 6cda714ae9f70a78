// `ancla run -- <cmd>` against a live server: the service's resolved non-secret config is in the
// command's environment, secrets are not; arguments reach the command verbatim (no shell); the
// command's exit code becomes ancla's.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ancla, startLiveServer, type LiveServer } from "../support/server";

setDefaultTimeout(300_000);

let s: LiveServer;
let dir: string;
const SECRET = "run-secret-" + crypto.randomUUID();
const cli = (args: string[], cwd = dir) => ancla(args, { home: s.home, cwd, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey, LOCAL_ONLY: "kept" } });
const api = (method: string, path: string, body?: unknown) =>
  fetch(s.url + path, { method, headers: { "x-api-key": s.adminKey, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

beforeAll(async () => {
  s = await startLiveServer();
  expect((await api("POST", "/api/v1/organizations", { name: "runorg", slug: "runorg" })).status).toBe(201);
  expect((await api("POST", "/api/v1/orgs/runorg/projects", { name: "Web", slug: "web" })).status).toBe(201);
  const svc = "/api/v1/orgs/runorg/projects/web/envs/production/services";
  expect((await api("POST", svc, { name: "site" })).status).toBe(201);
  expect((await api("POST", "/api/v1/orgs/runorg/config", { name: "FROM_ORG", value: "org-value" })).status).toBeLessThan(300);
  expect((await api("POST", `${svc}/site/config`, { name: "GREETING", value: "hello world; $(echo not-run)" })).status).toBeLessThan(300);
  expect((await api("POST", `${svc}/site/config`, { name: "DB_PASSWORD", value: SECRET, secret: true })).status).toBeLessThan(300);
  dir = mkdtempSync(join(tmpdir(), "ancla-run-"));
  mkdirSync(join(dir, ".ancla"));
  writeFileSync(join(dir, ".ancla", "config.yaml"), "org: runorg\nproject: web\nenv: production\nservice: site\n");
});
afterAll(async () => {
  await s?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("run", () => {
  test("run -- env: non-secret resolved vars (every scope) are set, the secret is not, the local env is kept", async () => {
    const r = await cli(["run", "--", "env"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^GREETING=hello world; \$\(echo not-run\)$/m);
    expect(r.stdout).toMatch(/^FROM_ORG=org-value$/m);
    expect(r.stdout).toMatch(/^LOCAL_ONLY=kept$/m);
    expect(r.stdout).not.toContain("DB_PASSWORD=");
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    expect(r.stderr).toContain("secrets not injected: DB_PASSWORD");
  });

  test("arguments reach the command verbatim (no shell) and its exit code is ancla's", async () => {
    const r = await cli(["run", "--", "printf", "%s|", "a b", "$GREETING", ";", "exit 9"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toBe("a b|$GREETING|;|exit 9|");
    const failed = await cli(["run", "--", "sh", "-c", "exit 7"]);
    expect(failed.code).toBe(7);
  });

  test("explicit target, missing command, unknown service, missing program", async () => {
    const other = mkdtempSync(join(tmpdir(), "ancla-run-nolink-"));
    try {
      const r = await cli(["run", "runorg/web/production/site", "--", "env"], other);
      expect(r.code).toBe(0);
      expect(r.stdout).toMatch(/^GREETING=/m);
      expect((await cli(["run", "--", "env"], other)).code).toBe(2); // no link, no target
    } finally {
      rmSync(other, { recursive: true, force: true });
    }
    expect((await cli(["run"])).code).toBe(2);
    expect((await cli(["run", "runorg/web/production/nope", "--", "env"])).code).toBe(4);
    const missing = await cli(["run", "--", "definitely-not-a-program-xyz"]);
    expect(missing.code).not.toBe(0);
  });
});
