// From argv to a command of a table and back to an exit code: finding the command words, parsing
// its flags, help generated from the option tables, rendering, and the one mapping of errors to
// exit codes. Knows no command: index.ts hands it the table (tests hand it their own).
import { AppError } from "../errors";
import { GLOBAL_OPTIONS, optionsHelp, parseArgs, type OptionTable, type ParsedArgs } from "./args";
import type { Command, CommandContext, CommandTable, Io } from "./context";
import { render } from "./render";

// Global flags may come before or between the command words (`ancla --server URL orgs list`,
// `ancla orgs --json list`); these patterns recognise them (and whether the next word is their value).
const GLOBAL_FLAG = /^(--(json|quiet|help|version)|-[qhv]+|--(server|api-key|output|config)=.*|-[qhv]*o.+)$/;
const GLOBAL_FLAG_WITH_VALUE_NEXT = /^(--(server|api-key|output|config)|-[qhv]*o)$/;

/** The leading words of argv (with their indexes), skipping global flags; stops at any other flag or `--`. */
function leadingWords(argv: string[]): { word: string; index: number }[] {
  const words: { word: string; index: number }[] = [];
  for (let i = 0; i < argv.length && words.length < 3; i++) {
    const a = argv[i]!;
    if (!a.startsWith("-") || a === "-") words.push({ word: a, index: i });
    else if (GLOBAL_FLAG_WITH_VALUE_NEXT.test(a)) i++;
    else if (!GLOBAL_FLAG.test(a)) break; // a command's own flag, or `--`: the command words are over
  }
  return words;
}

export type FoundCommand = { name: string; command: Command; argv: string[] };

/** The longest run of leading words that names a command ("orgs members add" before "orgs"), and argv without those words. */
export function findCommand(argv: string[], table: CommandTable): FoundCommand | { words: string[] } {
  const words = leadingWords(argv);
  for (let n = words.length; n > 0; n--) {
    const name = words.slice(0, n).map((w) => w.word).join(" ");
    const command = table[name];
    if (!command) continue;
    const drop = new Set(words.slice(0, n).map((w) => w.index));
    return { name, command, argv: argv.filter((_, i) => !drop.has(i)) };
  }
  return { words: words.map((w) => w.word) };
}

const VERSION_OPTION = { version: { type: "boolean", short: "v", description: "print the version" } } as const satisfies OptionTable;
const GLOBAL_USAGE = "[--server URL] [--api-key KEY] [-o table|json] [--json] [-q] [--config FILE]";

/** The command list, all of it or one group's (`ancla orgs`). */
function help(table: CommandTable, prefix?: string): string {
  const names = Object.keys(table).filter((n) => !prefix || n === prefix || n.startsWith(prefix + " ")).sort();
  const w = Math.max(...names.map((n) => n.length));
  return [
    `Usage: ancla ${prefix ?? "<command>"}${prefix ? " <command>" : ""} [arguments] [flags] ${GLOBAL_USAGE}`,
    "",
    "Commands:",
    ...names.map((n) => `  ${n.padEnd(w)}  ${table[n]!.summary}`),
    "",
    "Global flags:",
    ...optionsHelp(prefix ? GLOBAL_OPTIONS : { ...GLOBAL_OPTIONS, ...VERSION_OPTION }),
    "",
    `Run \`ancla <command> --help\` for a command's own flags.`,
  ].join("\n");
}

/** One command's help, generated from its option table. */
export function commandHelp(name: string, command: Command): string {
  const own = command.options && Object.keys(command.options).length ? ["", "Flags:", ...optionsHelp(command.options)] : [];
  return [`Usage: ancla ${command.usage ?? name}${own.length ? " [flags]" : ""}`, "", command.summary, ...own, "", "Global flags:", ...optionsHelp(GLOBAL_OPTIONS)].join("\n");
}

/** The longest run of words that is a group of commands (`orgs members`), if any. */
function groupOf(table: CommandTable, words: string[]): string | undefined {
  for (let n = words.length; n > 0; n--) {
    const prefix = words.slice(0, n).join(" ");
    if (Object.keys(table).some((c) => c.startsWith(prefix + " "))) return prefix;
  }
  return undefined;
}

/** No command named: top-level help, --version, a group's command list, or an unknown command (exit 2). */
function withoutCommand(table: CommandTable, version: string, argv: string[], words: string[], io: Io): number {
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs(argv, VERSION_OPTION);
  } catch (e) {
    io.err(`error: ${(e as Error).message}`);
    return 2;
  }
  if (words.length === 0 && parsed.flags.version) {
    io.out(`ancla ${version}`);
    return 0;
  }
  const group = groupOf(table, words);
  const known = group !== undefined && group.split(" ").length === words.length;
  if (words.length && !known) io.err(`error: unknown command "${parsed.positionals.join(" ")}"`);
  io.out(help(table, group));
  return words.length === 0 || (known && parsed.flags.help) ? 0 : 2;
}

export type Invocation = { table: CommandTable; version: string; argv: string[]; io: Io; env: Record<string, string | undefined>; cwd: string };

/** Run the command argv names; the exit code (0 ok, 2 usage, 3 auth, 4 not found, …). */
export async function dispatch({ table, version, argv, io, env, cwd }: Invocation): Promise<number> {
  const found = findCommand(argv, table);
  if (!("command" in found)) return withoutCommand(table, version, argv, found.words, io);
  let parsed: ParsedArgs;
  try {
    parsed = parseArgs(found.argv, found.command.options, found.name);
  } catch (e) {
    io.err(`error: ${(e as Error).message}`);
    return 2;
  }
  if (parsed.flags.help) {
    io.out(commandHelp(found.name, found.command));
    return 0;
  }
  const format = parsed.flags.output;
  if (format !== undefined && format !== "table" && format !== "json") {
    io.err("error: -o/--output must be table or json");
    return 2;
  }
  const ctx: CommandContext = { args: parsed.positionals, flags: parsed.flags, rest: parsed.rest, io, env, cwd };
  const json = parsed.flags.json === true || format === "json" || (format === undefined && env.ANCLA_OUTPUT === "json");
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
