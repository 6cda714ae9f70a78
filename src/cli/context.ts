// What every command receives: parsed arguments, streams and the environment. Commands return data.
// A command declares its flags in an option table; `command()` types `ctx.flags` from that table.
import type { FlagsOf, GlobalFlags, OptionTable } from "./args";
import type { Output } from "./render";

export type Io = {
  out: (text: string) => void;
  err: (text: string) => void;
  readStdin: () => Promise<string>;
  stdinIsTty: boolean;
};

export type CommandContext<F extends GlobalFlags = GlobalFlags> = {
  args: string[]; // positionals after the command words
  flags: F;
  rest: string[]; // after `--`
  io: Io;
  env: Record<string, string | undefined>;
  cwd: string;
};

/** A context whose flags include these (helpers shared between commands ask for what they read). */
export type ContextWith<F> = CommandContext<GlobalFlags & F>;

export type Command = {
  summary: string;
  /** the command words and positionals, e.g. `services get [org/project/env/]<service>`; flags come from `options` */
  usage?: string;
  /** this command's flags; the global ones (--server, --json, -q …) are always accepted */
  options?: OptionTable;
  run: (ctx: CommandContext<any>) => Promise<Output>;
};

export type CommandTable = Record<string, Command>;

/** A command whose `ctx.flags` is typed by its own option table. */
export const command = <const O extends OptionTable = {}>(c: {
  summary: string;
  usage?: string;
  options?: O;
  run: (ctx: CommandContext<GlobalFlags & FlagsOf<O>>) => Promise<Output>;
}): Command => c;
