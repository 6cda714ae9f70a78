// The strict parser as a user meets it, against a live server: per-command --help, typos refused
// before anything is sent, -qy, services update (PATCH of only the flags given) and open.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { ancla, startLiveServer, type CliResult, type LiveServer } from "../support/server";

setDefaultTimeout(300_000);

let s: LiveServer;
const T = "acme/web/production/api";

// no display: `open` must print, never start a browser
const cli = (args: string[]): Promise<CliResult> => ancla(args, { home: s.home, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey, DISPLAY: "", WAYLAND_DISPLAY: "" } });
async function ok(args: string[]): Promise<CliResult> {
  const r = await cli(args);
  if (r.code !== 0) throw new Error(`ancla ${args.join(" ")} exited ${r.code}: ${r.stderr}`);
  return r;
}

beforeAll(async () => {
  s = await startLiveServer();
  await ok(["orgs", "create", "Acme", "--slug", "acme"]);
  await ok(["projects", "create", "acme/Web", "--slug", "web"]);
  await ok(["services", "create", "acme/web/production/API", "--slug", "api"]);
});
afterAll(async () => {
  await s?.stop();
});

describe("strict flags", () => {
  test("a typo is a usage error naming the command and the flag it meant; nothing is swallowed or sent", async () => {
    const typo = await cli(["services", "get", "--jsn", "api"]);
    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe("");
    expect(typo.stderr.trim()).toBe('error: unknown flag --jsn for "ancla services get" (did you mean --json?); see ancla services get --help');
    expect((await cli(["logs", T, "--folow"])).stderr).toContain("did you mean --follow?");
    expect((await cli(["services", "update", T, "--port"])).stderr).toContain("--port needs a value");
    // the target after a boolean flag is the target
    expect((await ok(["services", "get", "--json", T])).json()).toMatchObject({ slug: "api", port: 8000 });
    expect((await ok(["--json", "services", "get", T])).json()).toMatchObject({ slug: "api" });
  });

  test("--help per command, generated from its flags", async () => {
    const help = await ok(["services", "update", "--help"]);
    expect(help.stdout).toStartWith("Usage: ancla services update [org/project/env/]<service> [flags]");
    for (const flag of ["--port N", "--health-check-path PATH", "--domains A,B", "--upstream-timeout SECONDS", "--unset FLAG", "--api-key KEY"]) expect(help.stdout).toContain(flag);
    expect((await ok(["open", "-h"])).stdout).toContain("--app");
  });

  test("-qy is -q -y (down without a deployment stores the counts)", async () => {
    const r = await ok(["down", T, "-qy"]);
    expect(r.stdout).toContain("Scale stored (web=0)");
    expect(r.stderr).toBe("");
  });
});

describe("services update", () => {
  test("changes only the settings given, in table and JSON form; --unset returns one to its default", async () => {
    const r = await ok(["services", "update", T, "--port", "5000", "--health-check-path", "/up", "--domains", "api.example.com,www.example.com", "--upstream-timeout", "45"]);
    expect(r.stdout).toMatch(/^port:\s+5000$/m);
    expect(r.stdout).toMatch(/^health_check_path:\s+\/up$/m);
    expect(r.stdout).toMatch(/^domains:\s+api\.example\.com, www\.example\.com$/m);
    const json = (await ok(["services", "get", T, "--json"])).json();
    expect(json).toMatchObject({ port: 5000, health_check_path: "/up", domains: ["api.example.com", "www.example.com"], upstream_timeout: 45, platform: "wind" });
    const reset = (await ok(["services", "update", T, "--unset", "health-check-path", "--unset", "domains", "--json"])).json();
    expect(reset).toMatchObject({ port: 5000, health_check_path: "/_health/", domains: [] });
    const refused = await cli(["services", "update", T, "--health-check-path", "no-slash"]);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain("health_check_path");
    expect((await cli(["services", "update", T])).stderr).toContain("nothing to update");
  });
});

describe("open", () => {
  test("prints the dashboard page of the target (no display: no browser), or the app's URL with --app", async () => {
    const page = await ok(["open", T]);
    expect(page.stdout.trim()).toBe(`${s.url}/orgs/acme/projects/web/envs/production/services/api`);
    expect((await ok(["open", "acme", "--json"])).json()).toEqual({ url: `${s.url}/orgs/acme`, opened: false });
    expect((await ok(["open", "--no-browser"])).stdout.trim()).toBe(`${s.url}/`);
    const app = await ok(["open", T, "--app"]);
    expect(app.stdout.trim()).toMatch(/^http:\/\/api\.web\.acme\.localhost(:\d+)?$/);
    expect((await cli(["open", "acme/web", "--app"])).code).toBe(2);
    // the published CLI's address of the same page answers a redirect to it
    const res = await fetch(`${s.url}/dashboard/orgs/acme/projects/web/apps/api`, { redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/orgs/acme/projects/web/envs/production/services/api");
  });
});
