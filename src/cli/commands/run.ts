// `ancla run -- <cmd> [args…]`: run a local command with the service's resolved NON-secret config
// in its environment (secrets never leave the server through this route). Spawned with an
// argument array, never through a shell; the command's exit code becomes ancla's.
import { AppError } from "../../errors";
import { noExtraArgs } from "../args";
import { clientFor } from "../client";
import { command, type CommandTable } from "../context";
import { servicePath, serviceTarget, TARGET } from "./deploy";
import { remoteRun } from "./exec";

type ResolvedVar = { name: string; value: string; secret: boolean };

export const runCommands: CommandTable = {
  run: command({
    summary: "Run a local command with the service's non-secret config in its environment (--remote: in a one-off container on the server)",
    usage: "run [org/project/env/service] [--remote] -- <command> [args…]",
    options: { remote: { type: "boolean", description: "run it on the server in a one-off container from the serving release (its config, secrets included, and volumes)" }, ...TARGET },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      if (ctx.rest.length === 0) throw new AppError(2, "missing command: ancla run -- <command> [args…]", "usage", 2);
      if (ctx.flags.remote === true) return remoteRun(ctx);
      const t = serviceTarget(ctx, ctx.args[0]);
      const vars = await clientFor(ctx).get<ResolvedVar[]>(`${servicePath(t)}/config/resolved`);
      const env: Record<string, string> = {};
      for (const [k, v] of Object.entries(ctx.env)) if (v !== undefined) env[k] = v;
      const skipped = vars.filter((v) => v.secret).map((v) => v.name);
      for (const v of vars) if (!v.secret) env[v.name] = v.value;
      if (skipped.length && ctx.flags.quiet !== true) ctx.io.err(`(secrets not injected: ${skipped.join(", ")})`);
      let proc: ReturnType<typeof Bun.spawn>;
      try {
        proc = Bun.spawn(ctx.rest, { cwd: ctx.cwd, env, stdin: "inherit", stdout: "inherit", stderr: "inherit" });
      } catch (e) {
        throw new AppError(127, `cannot run ${ctx.rest[0]}: ${(e as Error).message}`, "spawn", 127);
      }
      const code = await proc.exited;
      if (code !== 0) throw new AppError(code, `${ctx.rest[0]} exited with code ${code}`, "child_exit", code);
      return { kind: "none" };
    },
  }),
};
