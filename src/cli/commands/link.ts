// `ancla link <org>[/<project>[/<env>/<service>]]` writes the target into .ancla/config.yaml in
// the current directory (checked against the server first when a key is available), so commands
// that need a target can be run without one; `ancla unlink` removes it again.
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { AppError } from "../../errors";
import { noExtraArgs, requireArg } from "../args";
import { createClient, seg } from "../client";
import { command, type CommandTable } from "../context";
import { findProjectFile, readCliFile, resolveSettings, writeCliFile } from "../settings";

const LEVELS = ["org", "project", "env", "service"] as const;
const SLUG = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$|^[0-9a-f-]{36}$/;

export const linkCommands: CommandTable = {
  link: command({
    summary: "Link this directory to an organization, project or service (.ancla/config.yaml)",
    usage: "link <org>[/<project>[/<env>/<service>]]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const arg = requireArg(ctx.args, 0, "<org>[/<project>[/<env>/<service>]]");
      const parts = arg.split("/");
      if (parts.length > 4 || parts.some((p) => !SLUG.test(p))) {
        throw new AppError(2, `"${arg}" is not a valid target; expected <org>[/<project>[/<env>/<service>]] with slugs`, "usage", 2);
      }
      const link: Partial<Record<(typeof LEVELS)[number], string>> = {};
      parts.forEach((p, i) => (link[LEVELS[i]!] = p));
      const settings = resolveSettings(ctx);
      // check what the link names exists (a typo would otherwise only show at the next command)
      if (settings.apiKey) {
        const client = createClient(settings);
        const o = `/api/v1/orgs/${seg(link.org!)}`;
        await client.get(o);
        if (link.project) await client.get(`${o}/projects/${seg(link.project)}`);
        if (link.env) await client.get(`${o}/projects/${seg(link.project!)}/envs/${seg(link.env)}`);
        if (link.service) await client.get(`${o}/projects/${seg(link.project!)}/envs/${seg(link.env!)}/services/${seg(link.service)}`);
      }
      const file = join(ctx.cwd, ".ancla", "config.yaml");
      writeCliFile(file, { org: link.org, project: link.project, env: link.env, service: link.service });
      return { kind: "text", text: `linked ${ctx.cwd} to ${arg} (${file})`, data: { file, ...link } };
    },
  }),
  unlink: command({
    summary: "Remove the link of this directory (the nearest .ancla/config.yaml)",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 0);
      const file = findProjectFile(ctx.cwd);
      const settings = resolveSettings(ctx);
      if (!file || file === settings.userFile || !LEVELS.some((k) => readCliFile(file)[k] !== undefined)) {
        return { kind: "text", text: "not linked", data: { unlinked: false } };
      }
      const rest = writeCliFile(file, { org: undefined, project: undefined, env: undefined, service: undefined });
      if (Object.keys(rest).length === 0 && existsSync(file)) rmSync(file);
      return { kind: "text", text: `unlinked (${file})`, data: { unlinked: true, file } };
    },
  }),
};
