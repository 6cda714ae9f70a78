// argv → positionals, flags and the words after `--`, by node:util's parseArgs over one option
// table per command (plus the global flags). Unknown flags, a string flag without its value and a
// value on a boolean flag are usage errors (exit 2); help text is generated from the same tables.
import { parseArgs as tokenize } from "node:util";
import { AppError } from "../errors";

export type OptionSpec = {
  type: "string" | "boolean";
  /** one letter: `-f`; booleans group (`-qy`) */
  short?: string;
  /** the value's placeholder in help (`--port N`) */
  value?: string;
  description: string;
  /** repeatable (`--domain a --domain b`); the value is an array */
  multiple?: boolean;
};
export type OptionTable = Record<string, OptionSpec>;

/** Accepted by every command (SPEC §5), before or after the command words. */
export const GLOBAL_OPTIONS = {
  server: { type: "string", value: "URL", description: "Ancla server (else ANCLA_SERVER, the config files, http://127.0.0.1:8000)" },
  "api-key": { type: "string", value: "KEY", description: "API key (else ANCLA_API_KEY, the config files)" },
  output: { type: "string", short: "o", value: "table|json", description: "output format (ANCLA_OUTPUT)" },
  json: { type: "boolean", description: "same as -o json" },
  quiet: { type: "boolean", short: "q", description: "no progress output; results still print" },
  config: { type: "string", value: "FILE", description: "read and write this config file instead of ~/.ancla/config.yaml and .ancla/config.yaml" },
  help: { type: "boolean", short: "h", description: "show help" },
} as const satisfies OptionTable;

type ValueOf<S extends OptionSpec> = S["type"] extends "boolean" ? boolean : S extends { multiple: true } ? string[] : string;
/** The parsed flags of an option table: each one optional, typed by its spec. */
export type FlagsOf<O extends OptionTable> = { -readonly [K in keyof O]?: ValueOf<O[K]> };
export type GlobalFlags = FlagsOf<typeof GLOBAL_OPTIONS>;
export type FlagValue = string | boolean | string[];
export type Flags = GlobalFlags & Record<string, FlagValue | undefined>;
export type ParsedArgs = { positionals: string[]; flags: Flags; rest: string[] };

export const usage = (message: string) => new AppError(2, message, "usage", 2);

/** Edit distance with transpositions (optimal string alignment), for "did you mean --json?". */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)));
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const row = d[i]!;
      row[j] = Math.min(d[i - 1]![j]! + 1, row[j - 1]! + 1, d[i - 1]![j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) row[j] = Math.min(row[j]!, d[i - 2]![j - 2]! + 1);
    }
  }
  return d[a.length]![b.length]!;
}

function unknownFlag(raw: string, options: OptionTable, command: string): AppError {
  const name = raw.replace(/^-+/, "").split("=")[0]!;
  const near = raw.startsWith("--") ? Object.keys(options).filter((o) => distance(o, name) <= Math.max(1, Math.floor(name.length / 4))).sort((a, b) => distance(a, name) - distance(b, name)) : [];
  const hint = near.length ? ` (did you mean --${near[0]}?)` : "";
  const where = command ? ` for "ancla ${command}"` : "";
  return usage(`unknown flag ${raw.split("=")[0]}${where}${hint}; see ancla ${command ? `${command} ` : ""}--help`);
}

const display = (name: string, spec: OptionSpec) => `--${name}${spec.short ? `/-${spec.short}` : ""}`;

/**
 * Parse `argv` (the command words already removed) against `options` and the global flags.
 * parseArgs' lenient mode gives the tokens; the checks are ours so the messages name the command.
 */
export function parseArgs(argv: string[], options: OptionTable = {}, command = ""): ParsedArgs {
  const table: OptionTable = { ...GLOBAL_OPTIONS, ...options };
  const shapes = Object.fromEntries(Object.entries(table).map(([name, s]) => [name, { type: s.type, ...(s.short ? { short: s.short } : {}), ...(s.multiple ? { multiple: true } : {}) }]));
  let tokens;
  try {
    ({ tokens } = tokenize({ args: argv, options: shapes, strict: false, allowPositionals: true, tokens: true }));
  } catch (e) {
    throw usage((e as Error).message);
  }
  const positionals: string[] = [];
  const rest: string[] = [];
  const flags: Record<string, FlagValue> = {};
  let terminated = false;
  for (const token of tokens) {
    if (token.kind === "option-terminator") terminated = true;
    else if (token.kind === "positional") (terminated ? rest : positionals).push(token.value);
    else {
      const spec = table[token.name];
      if (!spec) throw unknownFlag(token.rawName + (token.inlineValue ? `=${token.value}` : ""), table, command);
      if (spec.type === "boolean") {
        if (token.value !== undefined) throw usage(`${display(token.name, spec)} takes no value (got "${token.value}")`);
        flags[token.name] = true;
        continue;
      }
      const value = token.value;
      // the lenient tokenizer hands `--port --json` the next flag as the value; a flag never swallows
      // another flag (or its positional: booleans take nothing), and an empty value is no value
      if (value === undefined || value === "" || (!token.inlineValue && value.length > 1 && value.startsWith("-"))) {
        throw usage(`${display(token.name, spec)} needs a value${spec.value ? ` (${spec.value})` : ""}${value ? `; to pass one starting with '-', write --${token.name}=${value}` : ""}`);
      }
      if (spec.multiple) flags[token.name] = [...((flags[token.name] as string[] | undefined) ?? []), value];
      else flags[token.name] = value;
    }
  }
  return { positionals, flags: flags as Flags, rest };
}

/** The flags section of a help text: one line per option, aligned. */
export function optionsHelp(options: OptionTable): string[] {
  const rows = Object.entries(options).map(([name, s]) => [`${s.short ? `-${s.short}, ` : "    "}--${name}${s.type === "string" ? ` ${s.value ?? "VALUE"}` : ""}`, s.description + (s.multiple ? " (repeatable)" : "")] as const);
  const w = Math.max(0, ...rows.map(([l]) => l.length));
  return rows.map(([l, d]) => `  ${l.padEnd(w)}  ${d}`);
}

export const flagString = (flags: Flags, name: string): string | undefined => {
  const v = flags[name];
  return typeof v === "string" ? v : undefined;
};

/** A whole-number flag in [min, max], or undefined when absent. */
export function intFlag(value: string | undefined, name: string, min = 0, max = Number.MAX_SAFE_INTEGER): number | undefined {
  if (value === undefined) return undefined;
  if (!/^\d{1,15}$/.test(value) || Number(value) < min || Number(value) > max) throw usage(`--${name} must be a whole number from ${min} to ${max}`);
  return Number(value);
}

/** The i-th positional, or a usage error naming it. */
export function requireArg(args: string[], i: number, what: string): string {
  const v = args[i];
  if (!v) throw usage(`missing argument: ${what}`);
  return v;
}

/** Reject positionals a command does not take, so a typo is not silently ignored. */
export function noExtraArgs(args: string[], max: number): void {
  if (args.length > max) throw usage(`unexpected argument: ${args[max]}`);
}

/** Flags several commands share, spelled once. */
export const FOLLOW = { follow: { type: "boolean", short: "f", description: "stream the log until it ends" } } as const satisfies OptionTable;
export const YES = { yes: { type: "boolean", short: "y", description: "do not ask for confirmation" } } as const satisfies OptionTable;
