// The CLI parser: per-command option tables over node:util's parseArgs (unknown flags, grouped
// short flags, flags never swallowing positionals, `--`), command lookup with global flags around
// the command words, help generated from the tables, and the real table's consistency.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { FOLLOW, GLOBAL_OPTIONS, parseArgs, YES, type OptionTable } from "../../src/cli/args";
import { command, type CommandTable, type Io } from "../../src/cli/context";
import { dispatch, findCommand } from "../../src/cli/dispatch";
import { AppError } from "../../src/errors";

setDefaultTimeout(120_000);

/** The usage error parseArgs throws, or null. */
function refusal(argv: string[], options: OptionTable = {}, name = "test"): AppError | null {
  try {
    parseArgs(argv, options, name);
    return null;
  } catch (e) {
    return e as AppError;
  }
}

describe("parseArgs", () => {
  const options = { ...FOLLOW, ...YES, port: { type: "string", value: "N", description: "a port" }, domain: { type: "string", multiple: true, description: "a domain" } } as const;

  test("unknown flags are usage errors (exit 2) naming the command and the near miss", () => {
    for (const [argv, near] of [[["--jsn"], "--json"], [["--folow"], "--follow"], [["--prot", "80"], "--port"]] as const) {
      const e = refusal([...argv], options, "logs");
      expect(e).toBeInstanceOf(AppError);
      expect(e!.exitCode).toBe(2);
      expect(e!.message).toContain(`unknown flag ${argv[0]} for "ancla logs" (did you mean ${near}?)`);
    }
    expect(refusal(["--frobnicate"], options)!.message).not.toContain("did you mean");
    expect(refusal(["-z"], options)!.message).toContain("unknown flag -z");
    expect(refusal(["--jsn=1"], options)!.message).toContain("unknown flag --jsn ");
  });

  test("-qy means -q -y; -fq too; -o takes the next word or its inline value", () => {
    expect(parseArgs(["-qy", "api"], options).flags).toEqual({ quiet: true, yes: true });
    expect(parseArgs(["-fq"], options).flags).toEqual({ follow: true, quiet: true });
    expect(parseArgs(["-o", "json"], options).flags).toEqual({ output: "json" });
    expect(parseArgs(["-ojson"], options).flags).toEqual({ output: "json" });
    expect(parseArgs(["-qo", "json", "x"], options)).toEqual({ flags: { quiet: true, output: "json" }, positionals: ["x"], rest: [] });
    expect(refusal(["-qz"], options)!.message).toContain("unknown flag -z");
  });

  test("a flag never swallows a positional: booleans take nothing, a typo is an error rather than eating the target", () => {
    expect(parseArgs(["--json", "api"], options)).toEqual({ flags: { json: true }, positionals: ["api"], rest: [] });
    expect(parseArgs(["--follow", "api"], options).positionals).toEqual(["api"]);
    expect(refusal(["--jsn", "api"], options)!.exitCode).toBe(2);
  });

  test("a string flag needs its value; it never takes the next flag; '-' and inline dashes are values", () => {
    expect(refusal(["--port"], options)!.message).toBe("--port needs a value (N)");
    expect(refusal(["--port", "--json"], options)!.message).toContain("--port needs a value (N); to pass one starting with '-', write --port=--json");
    expect(refusal(["--port="], options)!.message).toContain("--port needs a value");
    expect(parseArgs(["--port=-5"], options).flags.port).toBe("-5");
    expect(parseArgs(["--port", "-"], options).flags.port).toBe("-");
    expect(refusal(["--json=yes"], options)!.message).toBe('--json takes no value (got "yes")');
  });

  test("`--` ends flags: the rest is passed on untouched", () => {
    expect(parseArgs(["svc", "--", "ls", "-la", "--json"], options)).toEqual({ positionals: ["svc"], flags: {}, rest: ["ls", "-la", "--json"] });
  });

  test("repeatable flags collect values; plain ones keep the last", () => {
    expect(parseArgs(["--domain", "a.example", "--domain=b.example", "--port", "1", "--port", "2"], options).flags).toEqual({ domain: ["a.example", "b.example"], port: "2" });
  });

  test("the global flags are accepted by every command, with their short forms", () => {
    const parsed = parseArgs(["--server", "http://x", "--api-key", "k", "-o", "table", "--json", "-q", "--config", "c.yaml", "-h"], {});
    expect(parsed.flags).toEqual({ server: "http://x", "api-key": "k", output: "table", json: true, quiet: true, config: "c.yaml", help: true });
  });
});

/** A table of fake commands that echo what they were given. */
const seen: unknown[] = [];
const table: CommandTable = {
  "things get": command({
    summary: "Show a thing",
    usage: "things get [org/]<thing>",
    options: { ...FOLLOW, tail: { type: "string", value: "N", description: "lines from the end" } },
    run: async (ctx) => {
      seen.push({ args: ctx.args, flags: ctx.flags, rest: ctx.rest });
      return { kind: "object", value: { thing: ctx.args[0] ?? null } };
    },
  }),
  "things members add": command({ summary: "Add a member", run: async (ctx) => ({ kind: "text", text: `added ${ctx.args.join(" ")}` }) }),
  down: command({ summary: "Stop", options: YES, run: async (ctx) => ({ kind: "text", text: `down yes=${ctx.flags.yes === true} quiet=${ctx.flags.quiet === true}` }) }),
  fail: command({
    summary: "Fail",
    run: async () => {
      throw new AppError(404, "no such thing", "not_found", 4);
    },
  }),
};

async function cli(argv: string[], env: Record<string, string | undefined> = {}) {
  const out: string[] = [];
  const err: string[] = [];
  const io: Io = { out: (t) => out.push(t), err: (t) => err.push(t), readStdin: async () => "", stdinIsTty: false };
  const code = await dispatch({ table, version: "9.9.9", argv, io, env, cwd: "/" });
  return { code, stdout: out.join("\n"), stderr: err.join("\n") };
}

describe("dispatch", () => {
  test("command words are found around global flags and removed from argv", () => {
    expect(findCommand(["--server", "http://x", "things", "--json", "get", "a"], table)).toMatchObject({ name: "things get", argv: ["--server", "http://x", "--json", "a"] });
    expect(findCommand(["-o", "json", "things", "members", "add", "bob"], table)).toMatchObject({ name: "things members add", argv: ["-o", "json", "bob"] });
    expect(findCommand(["things", "get", "members"], table)).toMatchObject({ name: "things get", argv: ["members"] });
    expect(findCommand(["things", "nope"], table)).toEqual({ words: ["things", "nope"] });
  });

  test("a command gets its positionals, its own flags and the rest after --", async () => {
    seen.length = 0;
    const r = await cli(["things", "get", "--tail", "5", "acme/x", "-f", "--", "--tail"]);
    expect(r.code).toBe(0);
    expect(seen).toEqual([{ args: ["acme/x"], flags: { tail: "5", follow: true }, rest: ["--tail"] }]);
    expect((await cli(["down", "-qy"])).stdout).toBe("down yes=true quiet=true");
  });

  test("unknown flags exit 2 with the reason on stderr and nothing run", async () => {
    seen.length = 0;
    const r = await cli(["things", "get", "--jsn", "api"]);
    expect(r).toMatchObject({ code: 2, stdout: "" });
    expect(r.stderr).toBe('error: unknown flag --jsn for "ancla things get" (did you mean --json?); see ancla things get --help');
    expect(seen).toEqual([]);
    expect((await cli(["down", "--follow"])).code).toBe(2); // another command's flag
  });

  test("--help per command is generated from its option table (and the global flags)", async () => {
    const r = await cli(["things", "get", "--help"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toStartWith("Usage: ancla things get [org/]<thing> [flags]\n\nShow a thing\n\nFlags:\n");
    expect(r.stdout).toMatch(/^ {2}-f, --follow +stream the log until it ends$/m);
    expect(r.stdout).toMatch(/^ {6}--tail N +lines from the end$/m);
    expect(r.stdout).toContain("Global flags:");
    for (const name of Object.keys(GLOBAL_OPTIONS)) expect(r.stdout).toContain(`--${name}`);
    expect((await cli(["-h", "down"])).stdout).toContain("-y, --yes");
    expect((await cli(["fail", "--help"])).stdout).not.toContain("Flags:\n"); // no own flags: only the global ones
  });

  test("groups, unknown commands and --version", async () => {
    const group = await cli(["things"]);
    expect(group.code).toBe(2);
    expect(group.stdout).toContain("things get");
    expect(group.stdout).not.toContain("down");
    expect((await cli(["things", "--help"])).code).toBe(0);
    const unknown = await cli(["things", "nope"]);
    expect(unknown).toMatchObject({ code: 2 });
    expect(unknown.stderr).toBe('error: unknown command "things nope"');
    expect((await cli(["frob"])).stderr).toBe('error: unknown command "frob"');
    expect(await cli(["--version"])).toMatchObject({ code: 0, stdout: "ancla 9.9.9" });
    expect(await cli(["-v"])).toMatchObject({ code: 0, stdout: "ancla 9.9.9" });
    expect((await cli([])).code).toBe(0);
  });

  test("output format: -o json / --json / ANCLA_OUTPUT, the flag winning; errors in JSON too", async () => {
    expect(JSON.parse((await cli(["things", "get", "a", "--json"])).stdout)).toEqual({ thing: "a" });
    expect(JSON.parse((await cli(["things", "get", "a"], { ANCLA_OUTPUT: "json" })).stdout)).toEqual({ thing: "a" });
    expect((await cli(["things", "get", "a", "-o", "table"], { ANCLA_OUTPUT: "json" })).stdout).toBe("thing: a");
    const bad = await cli(["things", "get", "-o", "yaml"]);
    expect(bad).toMatchObject({ code: 2, stderr: "error: -o/--output must be table or json" });
    const failed = await cli(["fail", "--json"]);
    expect(failed.code).toBe(4);
    expect(JSON.parse(failed.stderr)).toEqual({ status: 404, message: "no such thing" });
  });
});

describe("the real command table", () => {
  test("every command: a summary, usage starting with its name, flags that do not shadow the global ones, distinct short letters, help that renders", async () => {
    const commands = await (await import("../../src/cli/index")).loadCommands();
    const { commandHelp } = await import("../../src/cli/dispatch");
    const globalShorts = new Set<string>(Object.values(GLOBAL_OPTIONS).flatMap((o) => ("short" in o ? [o.short] : [])));
    const problems: string[] = [];
    for (const [name, c] of Object.entries(commands)) {
      if (!c.summary) problems.push(`${name}: no summary`);
      if (c.usage && !c.usage.startsWith(name)) problems.push(`${name}: usage "${c.usage}" does not start with the command`);
      for (const [, flag] of (c.usage ?? "").matchAll(/--([a-z][a-z-]*)/g)) if (!(flag! in (c.options ?? {})) && !(flag! in GLOBAL_OPTIONS)) problems.push(`${name}: usage names --${flag}, which it does not take`);
      const shorts = new Set<string>();
      for (const [flag, spec] of Object.entries(c.options ?? {})) {
        if (flag in GLOBAL_OPTIONS) problems.push(`${name}: --${flag} shadows a global flag`);
        if (!spec.description) problems.push(`${name}: --${flag} has no description`);
        if (spec.short && (globalShorts.has(spec.short) || shorts.has(spec.short))) problems.push(`${name}: -${spec.short} is taken`);
        if (spec.short) shorts.add(spec.short);
      }
      const help = commandHelp(name, c);
      for (const flag of Object.keys(c.options ?? {})) if (!help.includes(`--${flag}`)) problems.push(`${name}: help lacks --${flag}`);
    }
    expect(problems).toEqual([]);
    expect(Object.keys(commands)).toEqual(expect.arrayContaining(["services update", "open", "deploy", "config import"]));
  });

  test("services update: only the flags given become the PATCH body; --unset resets; bad numbers and empty updates are usage errors", async () => {
    const { updateBody } = await import("../../src/cli/commands/services");
    expect(updateBody({ port: "5000", "health-check-path": "/up", domains: "a.example.com, b.example.com", "upstream-timeout": "30" })).toEqual({
      port: 5000,
      health_check_path: "/up",
      domains: ["a.example.com", "b.example.com"],
      upstream_timeout: 30,
    });
    expect(updateBody({ unset: ["image", "git-url,domains"] })).toEqual({ image: null, git_url: null, domains: [] });
    for (const [flags, message] of [
      [{ port: "http" }, "--port must be a whole number from 1 to 65535"],
      [{ port: "70000" }, "--port must be a whole number from 1 to 65535"],
      [{}, "nothing to update"],
      [{ unset: ["colour"] }, "--unset colour: not a setting"],
      [{ unset: ["port"] }, "port has no default"],
      [{ image: "x", unset: ["image"] }, "contradict"],
    ] as const) {
      let error: AppError | undefined;
      try {
        updateBody(flags as Record<string, string>);
      } catch (e) {
        error = e as AppError;
      }
      expect(error?.exitCode).toBe(2);
      expect(error?.message).toContain(message);
    }
  });

  test("open: the dashboard page of each target depth", async () => {
    const { dashboardPath } = await import("../../src/cli/commands/open");
    expect(dashboardPath([])).toBe("/");
    expect(dashboardPath(["acme"])).toBe("/orgs/acme");
    expect(dashboardPath(["acme", "web", "staging", "api"])).toBe("/orgs/acme/projects/web/envs/staging/services/api");
  });
});
