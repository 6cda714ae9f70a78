// The SPEC's CLI commands `init`, `settings show|set|path` and `completion bash|zsh|fish`: `ancla`
// subprocesses against a live server where a user's run matters (init, the scripts), the same
// command table in process for the many usage cases (the machine is shared), and real bash, zsh
// and fish loading the generated completion scripts.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli } from "../../src/cli";
import { ancla, startLiveServer, type CliResult, type LiveServer } from "../support/server";

setDefaultTimeout(300_000);

let s: LiveServer;
let root: string;
const api = (method: string, path: string, body?: unknown) =>
  fetch(s.url + path, { method, headers: { "x-api-key": s.adminKey, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });

/** `ancla <args>` in this process: the same table, parser and renderer, no process start. */
async function inProcess(args: string[], cwd: string, env: Record<string, string | undefined>): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const io = { out: (t: string) => void out.push(t), err: (t: string) => void err.push(t), readStdin: async () => "", stdinIsTty: false };
  const code = await runCli(args, io, env, cwd);
  const stdout = out.map((t) => (t.endsWith("\n") ? t : t + "\n")).join("");
  return { code, stdout, stderr: err.join("\n"), json: () => JSON.parse(stdout) };
}

beforeAll(async () => {
  s = await startLiveServer();
  root = mkdtempSync(join(tmpdir(), "ancla-init-"));
});
afterAll(async () => {
  await s?.stop();
  rmSync(root, { recursive: true, force: true });
});

describe("init", () => {
  const dir = () => join(root, "My App");
  const cli = (args: string[], cwd = dir()) => ancla(args, { home: s.home, cwd, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey } });

  test("init org/project creates the organization, project and a service named after the directory, links it, and says what is next", async () => {
    mkdirSync(dir(), { recursive: true });
    writeFileSync(join(dir(), "Dockerfile"), "FROM ancla-test/busybox\n");
    const r = await cli(["init", "initorg/shop"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("organization initorg: created");
    expect(r.stdout).toContain("project initorg/shop: created");
    expect(r.stdout).toContain("environment initorg/shop/production: exists"); // a project comes with production
    expect(r.stdout).toContain("service initorg/shop/production/my-app: created");
    expect(r.stdout).toContain("answers GET /_health/");
    expect(r.stdout).toContain("next: ancla deploy --follow");
    const link = readFileSync(join(dir(), ".ancla", "config.yaml"), "utf8");
    expect(link).toContain("org: initorg");
    expect(link).toContain("service: my-app");
    expect(link).not.toContain(s.adminKey);
    // the link works: target-less commands find the service
    const svc = await cli(["services", "get", "--json"]);
    expect(svc.code).toBe(0);
    expect(svc.json()).toMatchObject({ slug: "my-app", port: 8000, health_check_path: "/_health/" });
  });

  test("a second init uses what exists; a new environment and service with --port and --health-check-path are created", async () => {
    const again = await cli(["init", "initorg/shop", "--json"]);
    expect(again.code).toBe(0);
    expect(again.json()).toMatchObject({ target: "initorg/shop/production/my-app", created: [], dockerfile: true });
    const other = join(root, "worker");
    mkdirSync(other);
    const r = await cli(["init", "initorg/shop/staging/api", "--port", "5000", "--health-check-path", "/"], other);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("environment initorg/shop/staging: created");
    expect(r.stdout).toContain("service initorg/shop/staging/api: created");
    expect(r.stdout).toContain("next: add a Dockerfile");
    const svc = await (await api("GET", "/api/v1/orgs/initorg/projects/shop/envs/staging/services/api")).json();
    expect(svc).toMatchObject({ port: 5000, health_check_path: "/" });
  });

  test("bad targets are usage errors and write nothing; an organization of someone else is not taken over", async () => {
    const empty = join(root, "empty");
    mkdirSync(empty);
    for (const args of [["init"], ["init", "solo"], ["init", "a/b/c/d/e"], ["init", "Bad/Slug"], ["init", "a/b", "--port", "0"], ["init", "a/b", "--health-check-path", "x"]]) {
      const r = await inProcess(args, empty, { HOME: s.home, ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey });
      expect({ args, code: r.code }).toEqual({ args, code: 2 });
    }
    expect(existsSync(join(empty, ".ancla"))).toBe(false);
    // a user who is not a member sees the org as missing (404) and cannot create it (409)
    const admin = { ANCLA_DATA_DIR: s.dataDir };
    expect((await inProcess(["admin", "create-user", "intruder", "intruder@example.test", "--password", "password-intruder-1"], empty, admin)).code).toBe(0);
    const k = await inProcess(["admin", "create-key", "intruder"], empty, admin);
    const intruderKey = k.stdout.trim().split("\n").at(-1)!;
    const r = await inProcess(["init", "initorg/shop/production/evil"], empty, { HOME: s.home, ANCLA_SERVER: s.url, ANCLA_API_KEY: intruderKey });
    expect(r.code).toBe(5);
    expect(r.stderr).toContain("initorg");
    expect(existsSync(join(empty, ".ancla"))).toBe(false);
    expect((await api("GET", "/api/v1/orgs/initorg/projects/shop/envs/production/services/evil")).status).toBe(404);
  });
});

describe("settings show|set|path", () => {
  const home = () => join(root, "home");
  const run = (args: string[], cwd = root, env: Record<string, string> = {}) => inProcess(args, cwd, { HOME: home(), ...env });

  test("path is the user file; set writes it (checked values); show tells each value's source and never the key", async () => {
    mkdirSync(home(), { recursive: true });
    const path = await ancla(["settings", "path"], { home: home(), cwd: root }); // once as a process, as a user runs it
    expect(path.code).toBe(0);
    expect(path.stdout.trim()).toBe(join(home(), ".ancla", "config.yaml"));

    const set = await run(["settings", "set", "server", "http://127.0.0.1:9999/"]);
    expect(set.code).toBe(0);
    expect(readFileSync(join(home(), ".ancla", "config.yaml"), "utf8")).toContain("server: http://127.0.0.1:9999");
    const secret = "ancla_" + crypto.randomUUID().replaceAll("-", "");
    const show = await run(["settings", "show", "--json"], root, { ANCLA_API_KEY: secret });
    expect(show.code).toBe(0);
    expect(show.json()).toMatchObject({ server: "http://127.0.0.1:9999", server_from: "user file", api_key: "set", api_key_from: "env", org: null, user_file: join(home(), ".ancla", "config.yaml") });
    expect(show.stdout + show.stderr).not.toContain(secret);
    const table = await run(["settings", "show"], root, { ANCLA_API_KEY: secret });
    expect(table.stdout).toContain("server_from:");
    expect(table.stdout).not.toContain(secret);
    // flags still win over the file
    expect((await run(["settings", "show", "--json", "--server", "http://127.0.0.1:7"])).json()).toMatchObject({ server: "http://127.0.0.1:7", server_from: "flag" });
  });

  test("--local writes this directory's .ancla/config.yaml, which commands below it read; --unset removes a key", async () => {
    const project = join(root, "proj");
    mkdirSync(join(project, "sub"), { recursive: true });
    expect((await run(["settings", "path", "--local"], project)).stdout.trim()).toBe(join(project, ".ancla", "config.yaml"));
    expect((await run(["settings", "set", "--local", "org", "acme"], project)).code).toBe(0);
    expect((await run(["settings", "set", "project", "web", "--local"], project)).code).toBe(0);
    const show = (await run(["settings", "show", "--json"], join(project, "sub"))).json();
    expect(show).toMatchObject({ org: "acme", project: "web", project_file: join(project, ".ancla", "config.yaml") });
    expect((await run(["settings", "path", "--local"], join(project, "sub"))).stdout.trim()).toBe(join(project, ".ancla", "config.yaml"));
    expect((await run(["settings", "set", "--local", "--unset", "project"], project)).code).toBe(0);
    expect((await run(["settings", "show", "--json"], project)).json()).toMatchObject({ org: "acme", project: null });
  });

  test("the key is never set on the command line; unknown keys, bad values and stray words are usage errors that write nothing", async () => {
    const file = join(home(), ".ancla", "config.yaml");
    const before = readFileSync(file, "utf8");
    const key = await run(["settings", "set", "api_key", "ancla_xyz"]);
    expect(key.code).toBe(2);
    expect(key.stderr).toContain("ancla login");
    for (const args of [["settings", "set", "colour", "red"], ["settings", "set", "server", "ftp://x"], ["settings", "set", "org", "Not A Slug"], ["settings", "set", "server"], ["settings", "set", "--unset", "server", "x"], ["settings", "show", "extra"], ["settings", "path", "--locl"]]) {
      expect({ args, code: (await run(args)).code }).toEqual({ args, code: 2 });
    }
    expect(readFileSync(file, "utf8")).toBe(before);
    expect(readFileSync(file, "utf8")).not.toContain("ancla_xyz");
  });
});

describe("completion bash|zsh|fish, generated from the option tables", () => {
  let scripts: Record<string, string>;
  beforeAll(async () => {
    scripts = {};
    for (const shell of ["bash", "zsh", "fish"]) {
      const r = await inProcess(["completion", shell], root, {});
      expect(r.code).toBe(0);
      scripts[shell] = join(root, `completion.${shell}`);
      writeFileSync(scripts[shell]!, r.stdout);
    }
  });
  const shell = async (argv: string[]) => {
    const proc = Bun.spawn(argv, { cwd: root, stdout: "pipe", stderr: "pipe", env: { PATH: process.env.PATH ?? "/usr/bin:/bin", HOME: root } });
    const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
    return { out, err, code };
  };
  // COMP_WORDS as bash fills it for `ancla <words…>` with the cursor on the last word
  const bashComplete = (words: string[]) =>
    `COMP_WORDS=(ancla ${words.map((w) => `'${w}'`).join(" ")}); COMP_CWORD=${words.length}; _ancla; echo "\${COMPREPLY[*]}"`;

  test("bash: command words, each command's own flags and the global ones, past global flags and their values", async () => {
    const cases: [string[], string][] = [
      [["se"], "serve service services settings"],
      [["settings", ""], "path set show"],
      [["--server", "http://x", "services", "up"], "update"],
      [["services", "update", "--health"], "--health-check-path --health-check-host"],
      [["logs", "--fo"], "--follow"],
      [["-qy", "comp"], "completion"],
      [["init", "--p"], "--port"],
    ];
    for (const [words, expected] of cases) {
      const r = await shell(["bash", "-c", `source '${scripts.bash}'; ${bashComplete(words)}`]);
      expect({ words, out: r.out.trim(), err: r.err }).toEqual({ words, out: expected, err: "" });
    }
  });

  test("zsh loads the script (bashcompinit) and completes the same words", async () => {
    const r = await shell(["zsh", "-f", "-c", `source '${scripts.zsh}'; setopt ksharrays; ${bashComplete(["orgs", "members", ""])}`]);
    expect(r.err).toBe("");
    expect(r.out.trim()).toBe("add list remove toggle-admin");
  });

  test("fish: command words with their summaries, flags with their descriptions", async () => {
    const r = await shell(["fish", "-N", "-c", `source '${scripts.fish}'; complete -C 'ancla settings '; echo ---; complete -C 'ancla --json services update --hea'; echo ---; complete -C 'ancla logs --fol'`]);
    expect(r.err).toBe("");
    const [words, update, logs] = r.out.split("---\n");
    expect(words!.trim().split("\n").map((l) => l.split("\t")[0])).toEqual(["path", "set", "show"]);
    expect(words).toContain("show\tShow the server, key and link");
    expect(update!.trim().split("\n").map((l) => l.split("\t")[0]).sort()).toEqual(["--health-check-host", "--health-check-path"]);
    expect(logs!.trim()).toBe("--follow\tstream the log until it ends");
  });

  test("an unknown shell is a usage error", async () => {
    const r = await inProcess(["completion", "powershell"], root, {});
    expect(r.code).toBe(2);
    expect(r.stderr).toContain("bash, zsh, fish");
  });
});
