// argv → positionals and flags. Flags take a value unless declared boolean; `--` ends flag parsing.
import { AppError } from "../errors";
export type Flags = Record<string, string | boolean>;
export type ParsedArgs = { positionals: string[]; flags: Flags; rest: string[] };

const SHORT: Record<string, string> = { o: "output", q: "quiet", f: "follow", y: "yes", h: "help", v: "version" };
export const BOOLEAN_FLAGS = new Set([
  "json", "quiet", "yes", "follow", "help", "version", "manual", "resolved", "secret", "buildtime", "overwrite", "no-browser", "all", "protected", "ephemeral",
]);

export function parseArgs(argv: string[]): ParsedArgs {
  const positionals: string[] = [];
  const flags: Flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return { positionals, flags, rest: argv.slice(i + 1) };
    if (arg.startsWith("-") && arg !== "-") {
      const long = arg.startsWith("--");
      let name = arg.replace(/^--?/, "");
      let value: string | undefined;
      const eq = name.indexOf("=");
      if (eq >= 0) [name, value] = [name.slice(0, eq), name.slice(eq + 1)];
      if (!long) name = SHORT[name] ?? name;
      if (value === undefined && !BOOLEAN_FLAGS.has(name)) {
        const next = argv[i + 1];
        if (next !== undefined && !(next.startsWith("-") && next !== "-")) value = argv[++i];
      }
      flags[name] = value ?? true;
    } else positionals.push(arg);
  }
  return { positionals, flags, rest: [] };
}

export const flagString = (flags: Flags, name: string): string | undefined => {
  const v = flags[name];
  return typeof v === "string" ? v : undefined;
};

/** The i-th positional, or a usage error naming it. */
export function requireArg(args: string[], i: number, what: string): string {
  const v = args[i];
  if (!v) throw new AppError(2, `missing argument: ${what}`, "usage", 2);
  return v;
}

/** Reject positionals a command does not take, so a typo is not silently ignored. */
export function noExtraArgs(args: string[], max: number): void {
  if (args.length > max) throw new AppError(2, `unexpected argument: ${args[max]}`, "usage", 2);
}
