// What every command receives: parsed arguments, streams and the environment. Commands return data.
import type { Flags } from "./args";
import type { Output } from "./render";

export type Io = {
  out: (text: string) => void;
  err: (text: string) => void;
  readStdin: () => Promise<string>;
  stdinIsTty: boolean;
};

export type CommandContext = {
  args: string[]; // positionals after the command words
  flags: Flags;
  rest: string[]; // after `--`
  io: Io;
  env: Record<string, string | undefined>;
  cwd: string;
};

export type Command = {
  summary: string;
  usage?: string;
  run: (ctx: CommandContext) => Promise<Output>;
};

export type CommandTable = Record<string, Command>;
