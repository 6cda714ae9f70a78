// `ancla config …` against a live server: every scope, --resolved, KEY=- from stdin, import with
// bad lines, delete, linked directories, and the secret never reaching the CLI or the server log.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ancla, startLiveServer, type CliResult, type LiveServer } from "../support/server";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(300_000);

let s: LiveServer;
let work: string;
const SECRET = `stdin-secret-${crypto.randomUUID()}`;
const IMPORTED_SECRET = `imported-secret-${crypto.randomUUID()}`;

const cli = (args: string[], opts: { cwd?: string; stdin?: string } = {}): Promise<CliResult> =>
  ancla(args, { home: s.home, cwd: opts.cwd ?? work, stdin: opts.stdin, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey } });

async function ok(args: string[], opts: { cwd?: string; stdin?: string } = {}): Promise<CliResult> {
  const r = await cli(args, opts);
  if (r.code !== 0) throw new Error(`ancla ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

async function api(method: string, path: string, body?: unknown) {
  const res = await fetch(s.url + path, { method, headers: { "x-api-key": s.adminKey, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!res.ok) throw new Error(`${method} ${path} → ${res.status} ${await res.text()}`);
  return res.json();
}

const resolvedJson = async (target: string, cwd?: string) =>
  Object.fromEntries((await ok(["config", "list", ...(target ? [target] : []), "--resolved", "--json"], { cwd })).json().map((v: any) => [v.name, `${v.value}|${v.scope}`]));

beforeAll(async () => {
  s = await startLiveServer();
  work = mkdtempSync(join(tmpdir(), "ancla-config-cli-"));
  await api("POST", "/api/v1/organizations", { name: "Acme", slug: "acme" });
  await api("POST", "/api/v1/orgs/acme/teams", { name: "Core", slug: "core" });
  await api("POST", "/api/v1/orgs/acme/projects", { name: "Web", slug: "web", team: "core" });
  await api("POST", "/api/v1/orgs/acme/projects/web/envs", { name: "Staging", slug: "staging" });
  await api("POST", "/api/v1/orgs/acme/projects/web/envs/staging/services", { name: "Backend", slug: "backend" });
});
afterAll(async () => {
  await s.stop();
  rmSync(work, { recursive: true, force: true });
});

describe("config commands", () => {
  test("set at all five scopes; list --resolved shows the winner and its scope", async () => {
    expect((await ok(["config", "set", "acme", "LEVEL=org", "ORG_ONLY=1"])).stdout).toContain("set LEVEL, ORG_ONLY on organization acme");
    await ok(["config", "set", "acme/web", "LEVEL=team", "TEAM_ONLY=1", "--scope", "team"]);
    await ok(["config", "set", "acme/web", "LEVEL=project"]);
    await ok(["config", "set", "acme/web/staging", "LEVEL=env"]);
    await ok(["config", "set", "acme/web/staging/backend", "SERVICE_ONLY=yes", "--buildtime"]);
    expect(await resolvedJson("acme/web/staging/backend")).toEqual({
      LEVEL: "env|environment",
      ORG_ONLY: "1|organization",
      TEAM_ONLY: "1|team",
      SERVICE_ONLY: "yes|service",
    });
    await ok(["config", "set", "acme/web/staging/backend", "LEVEL=service"]);
    const table = await ok(["config", "list", "acme/web/staging/backend", "--resolved"]);
    expect(table.stdout.split("\n")[0]!.split(/\s{2,}/)).toEqual(["NAME", "VALUE", "SECRET", "BUILDTIME", "SCOPE"]);
    expect(table.stdout).toMatch(/^LEVEL\s+service\s+no\s+no\s+service$/m);
    expect(table.stdout).toMatch(/^SERVICE_ONLY\s+yes\s+no\s+yes\s+service$/m);
    // --scope narrows a deep target to a wider scope
    const projectVars = (await ok(["config", "list", "acme/web/staging/backend", "--scope", "project", "--json"])).json();
    expect(projectVars.map((v: any) => [v.name, v.value])).toEqual([["LEVEL", "project"]]);
  });

  test("KEY=- reads a secret from stdin; it is shown masked and never reaches the server log", async () => {
    const r = await ok(["config", "set", "acme/web/staging/backend", "DB_PASSWORD=-", "--secret"], { stdin: SECRET + "\n" });
    expect(r.stdout + r.stderr).not.toContain(SECRET);
    const list = await ok(["config", "list", "acme/web/staging/backend", "--json"]);
    expect(list.json().find((v: any) => v.name === "DB_PASSWORD")).toMatchObject({ value: "**secret**", secret: true });
    expect(list.stdout).not.toContain(SECRET);
    // re-setting without --secret keeps it secret
    await ok(["config", "set", "acme/web/staging/backend", "DB_PASSWORD=-"], { stdin: SECRET + "-2" });
    expect((await ok(["config", "list", "acme/web/staging/backend", "--json"])).json().find((v: any) => v.name === "DB_PASSWORD").secret).toBe(true);
  });

  test("import -f .env: good lines applied, bad lines reported by number with a non-zero exit", async () => {
    const file = join(work, "prod.env");
    writeFileSync(file, ["# comment", "export IMPORTED=1", "bad line here", `API_TOKEN="${IMPORTED_SECRET}"`, "2BAD=x", "LEVEL=from-file"].join("\n"));
    const r = await cli(["config", "import", "acme/web", "-f", "prod.env", "--secret"]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("line 3: expected KEY=value");
    expect(r.stderr).toContain('line 5: invalid name "2BAD"');
    expect(r.stderr).toContain("created IMPORTED, API_TOKEN");
    expect(r.stderr).toContain("skipped (exist, use --overwrite) LEVEL");
    const clean = join(work, "clean.env");
    writeFileSync(clean, "LEVEL=overwritten\r\nNEW_ONE='x y'\r\n");
    const again = await ok(["config", "import", "acme/web", "--file", clean, "--overwrite", "--json"]);
    expect(again.json()).toEqual({ created: ["NEW_ONE"], updated: ["LEVEL"], skipped: [], errors: [] });
    const project = (await ok(["config", "list", "acme/web", "--json"])).json();
    expect(Object.fromEntries(project.map((v: any) => [v.name, v.value]))).toEqual({
      API_TOKEN: "**secret**",
      IMPORTED: "**secret**",
      LEVEL: "overwritten",
      NEW_ONE: "x y",
    });
  });

  test("delete needs --yes when not interactive; a linked directory supplies the target", async () => {
    const linked = join(work, "linked");
    mkdirSync(join(linked, ".ancla"), { recursive: true });
    writeFileSync(join(linked, ".ancla", "config.yaml"), "org: acme\nproject: web\nenv: staging\nservice: backend\n");
    await ok(["config", "set", "TO_DELETE=1"], { cwd: linked });
    const refused = await cli(["config", "delete", "TO_DELETE"], { cwd: linked });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("without --yes");
    expect((await ok(["config", "delete", "TO_DELETE", "--yes"], { cwd: linked })).stdout).toContain("deleted TO_DELETE from service acme/web/staging/backend");
    expect((await resolvedJson("", linked)).TO_DELETE).toBeUndefined();
    const missing = await cli(["config", "delete", "acme/web/staging/backend", "TO_DELETE", "--yes"]);
    expect(missing.code).toBe(4);
  });

  test("mistakes exit non-zero with a clear message and change nothing", async () => {
    const before = (await ok(["config", "list", "acme", "--json"])).json();
    const bad = await cli(["config", "set", "acme", "1BAD=x"]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('"1BAD" is not a valid name');
    expect((await cli(["config", "set", "acme", "NOEQUALS"])).stderr).toContain('"NOEQUALS" is not KEY=value');
    expect((await cli(["config", "set", "acme/web", "X=1", "--scope", "service"])).stderr).toContain("--scope service needs a target down to the service");
    expect((await cli(["config", "set", "acme/web", "X=1", "--scope", "galaxy"])).code).toBe(2);
    expect((await cli(["config", "list", "acme/web", "--resolved"])).stderr).toContain("--resolved needs a service target");
    expect((await cli(["config", "list", "nope"])).code).toBe(4);
    expect((await cli(["config", "import", "acme", "-f", "does-not-exist.env"])).stderr).toContain("cannot read does-not-exist.env");
    expect((await ok(["config", "list", "acme", "--json"])).json()).toEqual(before);
  });

  test("admin rotate-master-key refuses while this server runs and leaves the key alone", async () => {
    const keyBefore = await Bun.file(join(s.dataDir, "master.key")).bytes();
    const r = await ancla(["admin", "rotate-master-key", "--data-dir", s.dataDir], { home: s.home });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("ancla serve is running on this data dir");
    expect(await Bun.file(join(s.dataDir, "master.key")).bytes()).toEqual(keyBefore);
    // and the server still reads its secrets
    expect((await ok(["config", "list", "acme/web", "--json"])).json().find((v: any) => v.name === "API_TOKEN").secret).toBe(true);
  });

  test("the server log never contained a secret value", () => {
    const log = s.output();
    expect(log).toContain("info config imported"); // writes are logged, by name only
    expect(log).toContain("DB_PASSWORD");
    expect(log.includes(SECRET)).toBe(false);
    expect(log.includes(IMPORTED_SECRET)).toBe(false);
  });
});
