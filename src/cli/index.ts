// The command table: every command file contributes its commands; dispatch.ts runs them.
import { noExtraArgs } from "./args";
import { command, type CommandTable, type Io } from "./context";
import { dispatch } from "./dispatch";
import { serverCommands } from "./commands/server";
import { settingsCommands } from "./commands/settings";
import { initCommands } from "./commands/init";
import { completionCommands } from "./commands/completion";
import { opsCommands } from "./commands/ops";
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
import { execCommands } from "./commands/exec";
import { pipelineCommands } from "./commands/pipeline";
import { releaseCommands } from "./commands/releases";
import { deploymentCommands } from "./commands/deployments";
import { promoteCommands } from "./commands/promote";
import { logCommands } from "./commands/logs";
import { domainCommands } from "./commands/domains";
import { openCommands } from "./commands/open";
import { webhookCommands } from "./commands/webhooks";
import { metricsCommands } from "./commands/metrics";
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

export const commands: CommandTable = {
  ...baseCommands,
  ...settingsCommands,
  ...initCommands,
  // completes every command of this table, itself included
  ...completionCommands(() => commands),
  ...serverCommands,
  ...opsCommands,
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
  ...execCommands,
  ...pipelineCommands,
  ...releaseCommands,
  ...deploymentCommands,
  ...promoteCommands,
  ...logCommands,
  ...domainCommands,
  ...openCommands,
  ...webhookCommands,
  ...metricsCommands,
};

export function processIo(): Io {
  return {
    out: (t) => process.stdout.write(t.endsWith("\n") ? t : t + "\n"),
    err: (t) => process.stderr.write(t.endsWith("\n") ? t : t + "\n"),
    readStdin: () => Bun.stdin.text(),
    stdinIsTty: Boolean(process.stdin.isTTY),
  };
}

export const runCli = (argv: string[], io: Io = processIo(), env: Record<string, string | undefined> = process.env, cwd = process.cwd()): Promise<number> =>
  dispatch({ table: commands, version: VERSION, argv, io, env, cwd });
