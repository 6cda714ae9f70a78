// CLI settings: where the server and key come from (flag > env > nearest .ancla/config.yaml >
// ~/.ancla/config.yaml) and the small YAML files that `login`, `logout` and `link` write.
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname, join, resolve } from "node:path";
import type * as Yaml from "yaml";
import { z } from "zod";
import { AppError } from "../errors";
import type { CommandContext } from "./context";

/** yaml is required once a settings file exists: a command without one never evaluates it (still bundled by bun build). */
const yaml = (): typeof Yaml => require("yaml");

export const DEFAULT_SERVER = "http://127.0.0.1:8000";

/** One config file; unknown keys are kept when the file is rewritten. */
export const cliFileSchema = z
  .object({
    server: z.string().optional(),
    api_key: z.string().optional(),
    username: z.string().optional(),
    email: z.string().optional(),
    org: z.string().optional(),
    project: z.string().optional(),
    env: z.string().optional(),
    service: z.string().optional(),
  })
  .passthrough();
export type CliFile = z.infer<typeof cliFileSchema>;

export type Source = "flag" | "env" | "project file" | "user file" | "config file" | "default";
export type Link = { org?: string; project?: string; env?: string; service?: string };

export type Settings = {
  server: string;
  apiKey?: string;
  link: Link;
  sources: { server: Source; apiKey?: Source };
  /** The file `login`/`logout` write: --config FILE, else ~/.ancla/config.yaml. */
  userFile: string;
  /** The nearest .ancla/config.yaml above the cwd, if any (what `link` writes). */
  projectFile?: string;
};

export const userConfigPath = (env: Record<string, string | undefined>): string =>
  join(env.HOME || homedir(), ".ancla", "config.yaml");

/** Walk up from cwd to the filesystem root; the first .ancla/config.yaml wins. */
export function findProjectFile(cwd: string): string | undefined {
  for (let dir = resolve(cwd); ; dir = dirname(dir)) {
    const file = join(dir, ".ancla", "config.yaml");
    if (existsSync(file)) return file;
    if (dirname(dir) === dir) return undefined;
  }
}

export function readCliFile(file: string | undefined): CliFile {
  if (!file || !existsSync(file)) return {};
  let raw: unknown;
  try {
    raw = yaml().parse(readFileSync(file, "utf8"));
  } catch (e) {
    throw new AppError(2, `${file} is not valid YAML: ${(e as Error).message.split("\n")[0]}`, "usage", 2);
  }
  const parsed = cliFileSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new AppError(2, `${file}: ${issue.path.join(".") || "file"}: ${issue.message}`, "usage", 2);
  }
  return parsed.data;
}

/** Merge `patch` into the file (undefined removes a key); the file is created 0600 in a 0700 dir. */
export function writeCliFile(file: string, patch: Partial<Record<keyof CliFile, string | undefined>>): CliFile {
  const next: Record<string, unknown> = { ...readCliFile(file) };
  for (const [k, v] of Object.entries(patch)) {
    if (v === undefined) delete next[k];
    else next[k] = v;
  }
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  // write-then-rename so a crash never leaves a half-written key file
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, yaml().stringify(next), { mode: 0o600 });
  chmodSync(tmp, 0o600);
  renameSync(tmp, file);
  return next as CliFile;
}

function pick<K extends keyof CliFile>(key: K, layers: [Source, CliFile][]): { value?: string; source?: Source } {
  for (const [source, file] of layers) {
    const v = file[key];
    if (typeof v === "string" && v !== "") return { value: v, source };
  }
  return {};
}

export function resolveSettings(ctx: Pick<CommandContext, "flags" | "env" | "cwd">): Settings {
  const explicit = ctx.flags.config;
  const userFile = explicit ? resolve(ctx.cwd, explicit) : userConfigPath(ctx.env);
  // --config FILE replaces both discovered files
  // walking up from inside HOME reaches ~/.ancla/config.yaml itself: that is the user file
  const found = explicit ? undefined : findProjectFile(ctx.cwd);
  const projectFile = found === userFile ? undefined : found;
  const fileLayers: [Source, CliFile][] = explicit
    ? [["config file", readCliFile(userFile)]]
    : [
        ["project file", readCliFile(projectFile)],
        ["user file", readCliFile(userFile)],
      ];
  const layers: [Source, CliFile][] = [
    ["flag", { server: ctx.flags.server, api_key: ctx.flags["api-key"] }],
    ["env", { server: ctx.env.ANCLA_SERVER, api_key: ctx.env.ANCLA_API_KEY }],
    ...fileLayers,
  ];
  const server = pick("server", layers);
  const apiKey = pick("api_key", layers);
  const link: Link = {};
  for (const key of ["org", "project", "env", "service"] as const) link[key] = pick(key, fileLayers).value;
  return {
    server: normaliseServer(server.value ?? DEFAULT_SERVER),
    apiKey: apiKey.value,
    link,
    sources: { server: server.source ?? "default", apiKey: apiKey.source },
    userFile,
    projectFile,
  };
}

export function normaliseServer(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new AppError(2, `server "${value}" is not a URL (expected e.g. ${DEFAULT_SERVER})`, "usage", 2);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw new AppError(2, `server "${value}" must be an http(s) URL`, "usage", 2);
  return url.origin + url.pathname.replace(/\/+$/, "");
}

/**
 * "org/project/env/service"-style targets: the parts given fill the trailing levels, the
 * leading ones come from the linked defaults (`apps get api` in a linked directory).
 */
export function resolveTarget<L extends string>(arg: string | undefined, levels: readonly L[], defaults: Partial<Record<L, string>>): Record<L, string> {
  const given = arg ? arg.split("/") : [];
  const shape = levels.join("/");
  if (given.length > levels.length || given.some((p) => p === "")) throw new AppError(2, `"${arg}" is not a valid target; expected ${shape}`, "usage", 2);
  const out = {} as Record<L, string>;
  const offset = levels.length - given.length;
  levels.forEach((level, i) => {
    const value = i >= offset ? given[i - offset] : defaults[level];
    if (!value) throw new AppError(2, `missing ${level}: pass ${shape} or run \`ancla link\` in this directory`, "usage", 2);
    out[level] = value;
  });
  return out;
}
