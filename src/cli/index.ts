// The command table: every command file contributes its commands; dispatch.ts runs them.
// The command files are imported when a command runs (dynamic imports, still bundled by
// `bun build --compile`): `ancla --version` loads none of them, and a command file imports what
// only its commands need (the server, the database, tar) inside them, so a client command never
// evaluates the server.
import { noExtraArgs } from "./args";
import { command, type CommandTable, type Io } from "./context";
import { dispatch, findCommand } from "./dispatch";
import pkg from "../../package.json" with { type: "json" };

export const VERSION: string = pkg.version;

const baseCommands: CommandTable = {
  version: command({
    summary: "Print the version",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 0);
      return { kind: "text", text: `ancla ${VERSION}`, data: { version: VERSION } };
    },
  }),
};

/** Every command of every command file; the files are imported here, on first call. */
export async function loadCommands(): Promise<CommandTable> {
  const [server, settings, init, completion, ops, session, login, orgs, projects, envs, services, apps, config, images, deploy, link, run, exec, pipeline, releases, deployments, promote, logs, domains, open, webhooks, metrics] =
    await Promise.all([
      import("./commands/server"),
      import("./commands/settings"),
      import("./commands/init"),
      import("./commands/completion"),
      import("./commands/ops"),
      import("./commands/session"),
      import("./commands/login"),
      import("./commands/orgs"),
      import("./commands/projects"),
      import("./commands/envs"),
      import("./commands/services"),
      import("./commands/apps"),
      import("./commands/config"),
      import("./commands/images"),
      import("./commands/deploy"),
      import("./commands/link"),
      import("./commands/run"),
      import("./commands/exec"),
      import("./commands/pipeline"),
      import("./commands/releases"),
      import("./commands/deployments"),
      import("./commands/promote"),
      import("./commands/logs"),
      import("./commands/domains"),
      import("./commands/open"),
      import("./commands/webhooks"),
      import("./commands/metrics"),
    ]);
  const commands: CommandTable = {
    ...baseCommands,
    ...settings.settingsCommands,
    ...init.initCommands,
    // completes every command of this table, itself included
    ...completion.completionCommands(() => commands),
    ...server.serverCommands,
    ...ops.opsCommands,
    ...session.sessionCommands,
    ...login.loginCommands,
    ...orgs.orgCommands,
    ...projects.projectCommands,
    ...envs.envCommands,
    ...services.serviceCommands,
    ...apps.appCommands,
    ...config.configCommands,
    ...images.imageCommands,
    ...deploy.deployCommands,
    ...link.linkCommands,
    ...run.runCommands,
    ...exec.execCommands,
    ...pipeline.pipelineCommands,
    ...releases.releaseCommands,
    ...deployments.deploymentCommands,
    ...promote.promoteCommands,
    ...logs.logCommands,
    ...domains.domainCommands,
    ...open.openCommands,
    ...webhooks.webhookCommands,
    ...metrics.metricsCommands,
  };
  return commands;
}

/** `ancla --version`, `ancla version`: answered from baseCommands alone, without importing a command file. */
const VERSION_FLAG = /^(--version|-[qhv]*v[qhv]*)$/;
const versionOnly = (argv: string[]): boolean => {
  const found = findCommand(argv, baseCommands);
  return "command" in found || (found.words.length === 0 && argv.some((a) => VERSION_FLAG.test(a)) && !argv.includes("--"));
};

export function processIo(): Io {
  return {
    out: (t) => process.stdout.write(t.endsWith("\n") ? t : t + "\n"),
    err: (t) => process.stderr.write(t.endsWith("\n") ? t : t + "\n"),
    readStdin: () => Bun.stdin.text(),
    // read when a command asks: process.stdin loads Node's stream machinery (~10 ms), which `serve` never needs
    get stdinIsTty() {
      return Boolean(process.stdin.isTTY);
    },
  };
}

/**
 * `ancla serve`: its own command file alone (the other command files are clients' and cost the
 * server's start-up ~80 ms of evaluation in the compiled binary); `serve --help` reads the same entry.
 */
const serveOnly = (argv: string[]): boolean => {
  const found = findCommand(argv, { serve: baseCommands.version! });
  return "command" in found && found.name === "serve";
};

async function tableFor(argv: string[]): Promise<CommandTable> {
  if (versionOnly(argv)) return baseCommands;
  if (serveOnly(argv)) return { ...baseCommands, serve: (await import("./commands/server")).serverCommands.serve! };
  return loadCommands();
}

export const runCli = async (argv: string[], io: Io = processIo(), env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Promise<number> =>
  dispatch({ table: await tableFor(argv), version: VERSION, argv, io, env, cwd });
