// The command table and the one place that maps outcomes to exit codes.
import { AppError } from "../errors";
import { parseArgs } from "./args";
import type { Command, CommandContext, CommandTable, Io } from "./context";
import { render } from "./render";
import { serverCommands } from "./commands/server";
import { sessionCommands } from "./commands/session";
import { loginCommands } from "./commands/login";
import { orgCommands } from "./commands/orgs";
import { projectCommands } from "./commands/projects";
import { envCommands } from "./commands/envs";
import { serviceCommands } from "./commands/services";
import { appCommands } from "./commands/apps";
import { configCommands } from "./commands/config";
import { imageCommands } from "./commands/images";
import { deployCommands } from "./commands/deploy";
import { linkCommands } from "./commands/link";
import { runCommands } from "./commands/run";
import { pipelineCommands } from "./commands/pipeline";
import { releaseCommands } from "./commands/releases";
import { deploymentCommands } from "./commands/deployments";
import { promoteCommands } from "./commands/promote";
import { logCommands } from "./commands/logs";
import { domainCommands } from "./commands/domains";
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;

const baseCommands: CommandTable = {
  version: {
    summary: "Print the version",
    run: async () => ({ kind: "text", text: `ancla ${VERSION}`, data: { version: VERSION } }),
  },
};

export const commands: CommandTable = {
  ...baseCommands,
  ...serverCommands,
  ...sessionCommands,
  ...loginCommands,
  ...orgCommands,
  ...projectCommands,
  ...envCommands,
  ...serviceCommands,
  ...appCommands,
  ...configCommands,
  ...imageCommands,
  ...deployCommands,
  ...linkCommands,
  ...runCommands,
  ...pipelineCommands,
  ...releaseCommands,
  ...deploymentCommands,
  ...promoteCommands,
  ...logCommands,
  ...domainCommands,
};

/** Longest run of leading positionals that names a command ("orgs members add" before "orgs"). */
function findCommand(positionals: string[]): { name: string; command: Command; args: string[] } | null {
  for (let n = Math.min(3, positionals.length); n > 0; n--) {
    const name = positionals.slice(0, n).join(" ");
    const command = commands[name];
    if (command) return { name, command, args: positionals.slice(n) };
  }
  return null;
}

function help(prefix?: string): string {
  const names = Object.keys(commands).filter((n) => !prefix || n === prefix || n.startsWith(prefix + " ")).sort();
  const w = Math.max(...names.map((n) => n.length));
  return [
    "Usage: ancla <command> [arguments] [--server URL] [--api-key KEY] [-o table|json] [--json] [-q] [--config FILE]",
    "",
    "Commands:",
    ...names.map((n) => `  ${n.padEnd(w)}  ${commands[n]!.summary}`),
  ].join("\n");
}

export function processIo(): Io {
  return {
    out: (t) => process.stdout.write(t.endsWith("\n") ? t : t + "\n"),
    err: (t) => process.stderr.write(t.endsWith("\n") ? t : t + "\n"),
    readStdin: () => Bun.stdin.text(),
    stdinIsTty: Boolean(process.stdin.isTTY),
  };
}

export async function runCli(argv: string[], io: Io = processIo(), env = process.env, cwd = process.cwd()): Promise<number> {
  const parsed = parseArgs(argv);
  if (parsed.flags.version && parsed.positionals.length === 0) parsed.positionals.push("version");
  const found = findCommand(parsed.positionals);
  if (!found || parsed.flags.help) {
    const prefix = parsed.positionals[0];
    const unknown = !found && !parsed.flags.help && parsed.positionals.length > 0 && !commands[parsed.positionals[0]!] && !Object.keys(commands).some((n) => n.startsWith(parsed.positionals[0] + " "));
    if (unknown) io.err(`error: unknown command "${parsed.positionals.join(" ")}"`);
    if (found) io.out(`Usage: ancla ${found.command.usage ?? found.name}\n\n${found.command.summary}`);
    else io.out(help(prefix && Object.keys(commands).some((n) => n.startsWith(prefix + " ")) ? prefix : undefined));
    return found || parsed.flags.help || parsed.positionals.length === 0 ? 0 : 2;
  }
  const format = parsed.flags.output;
  if (format !== undefined && format !== "table" && format !== "json") {
    io.err("error: -o/--output must be table or json");
    return 2;
  }
  const ctx: CommandContext = { args: found.args, flags: parsed.flags, rest: parsed.rest, io, env, cwd };
  const json = parsed.flags.json === true || parsed.flags.output === "json" || env.ANCLA_OUTPUT === "json";
  try {
    const output = await found.command.run(ctx);
    const text = render(output, json);
    // -q silences progress (each command's stderr), never the result: `ancla deploy -q` still
    // prints the URL and `admin create-key -q` the key, for scripts
    if (text !== null) io.out(text);
    return 0;
  } catch (e) {
    if (e instanceof AppError) {
      io.err(json ? JSON.stringify({ status: e.status, message: e.message }) : `error: ${e.message}`);
      return e.exitCode;
    }
    io.err(`error: ${e instanceof Error ? e.message : String(e)}`);
    return 1;
  }
}
