// `ancla settings show|set|path`: the CLI's own settings — which server and key a command would
// use and where each came from, changing a value in the user file (or with --local the directory's
// .ancla/config.yaml), and the paths of those files. The API key is never printed, only where it
// comes from; it is set by `ancla login` (its argv would land in the shell's history).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { noExtraArgs, requireArg, usage } from "../args";
import { command, type CommandContext, type CommandTable } from "../context";
import { findProjectFile, normaliseServer, resolveSettings, writeCliFile, type CliFile } from "../settings";

/** The keys `settings set` writes, each with how its value is checked. */
const SETTABLE = {
  server: (v: string) => normaliseServer(v),
  org: (v: string) => slug("org", v),
  project: (v: string) => slug("project", v),
  env: (v: string) => slug("env", v),
  service: (v: string) => slug("service", v),
} as const satisfies Partial<Record<keyof CliFile, (v: string) => string>>;
type SettableKey = keyof typeof SETTABLE;

function slug(key: string, v: string): string {
  if (!/^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/.test(v)) throw usage(`${key} must be a slug (lowercase letters, digits and dashes), got "${v}"`);
  return v;
}

const LOCAL = { local: { type: "boolean", description: "this directory's .ancla/config.yaml (the nearest one above it, else a new one here) instead of the user file" } } as const;

/** The file `set`/`path` work on: the user file (--config FILE replaces it), or with --local the project file. */
function fileOf(ctx: Pick<CommandContext, "flags" | "env" | "cwd">, local: boolean | undefined): string {
  const settings = resolveSettings(ctx);
  if (!local) return settings.userFile;
  if (ctx.flags.config) throw usage("--local and --config name different files; give one");
  return settings.projectFile ?? findProjectFile(ctx.cwd) ?? join(ctx.cwd, ".ancla", "config.yaml");
}

export const settingsCommands: CommandTable = {
  "settings show": command({
    summary: "Show the server, key and link a command here would use, and where each comes from",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 0);
      const s = resolveSettings(ctx);
      const data = {
        server: s.server,
        server_from: s.sources.server,
        // whether a key is set and where from: never the key itself
        api_key: s.apiKey ? "set" : null,
        api_key_from: s.sources.apiKey ?? null,
        org: s.link.org ?? null,
        project: s.link.project ?? null,
        env: s.link.env ?? null,
        service: s.link.service ?? null,
        user_file: s.userFile,
        project_file: s.projectFile ?? null,
      };
      return { kind: "object", value: data, data };
    },
  }),
  "settings set": command({
    summary: "Set (or with --unset remove) server, org, project, env or service in the user file, or with --local this directory's",
    usage: "settings set <server|org|project|env|service> [value]",
    options: { ...LOCAL, unset: { type: "boolean", description: "remove the key instead of setting it" } },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 2);
      const key = requireArg(ctx.args, 0, "<server|org|project|env|service>");
      if (key === "api_key" || key === "api-key") throw usage("the API key is set by `ancla login` (or `ancla login --manual`, reading it from stdin), never on the command line");
      if (!Object.hasOwn(SETTABLE, key)) throw usage(`unknown setting "${key}"; one of ${Object.keys(SETTABLE).join(", ")}`);
      const name = key as SettableKey;
      const file = fileOf(ctx, ctx.flags.local);
      if (ctx.flags.unset) {
        if (ctx.args[1] !== undefined) throw usage("--unset takes no value");
        writeCliFile(file, { [name]: undefined });
        return { kind: "text", text: `removed ${key} from ${file}`, data: { file, key, value: null } };
      }
      const value = SETTABLE[name](requireArg(ctx.args, 1, `the value of ${key}`));
      writeCliFile(file, { [name]: value });
      return { kind: "text", text: `${key} = ${value} (${file})`, data: { file, key, value } };
    },
  }),
  "settings path": command({
    summary: "Print the path of the user settings file (with --local: this directory's .ancla/config.yaml)",
    options: LOCAL,
    run: async (ctx) => {
      noExtraArgs(ctx.args, 0);
      const file = fileOf(ctx, ctx.flags.local);
      return { kind: "text", text: file, data: { path: file, exists: existsSync(file) } };
    },
  }),
};
