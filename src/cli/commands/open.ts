// `ancla open [org[/project[/env[/service]]]]`: the dashboard page of the target (the linked one by
// default), or with --app the service's own URL, in a browser; the URL is printed either way, so it
// also works over SSH or in scripts (no display: nothing is started).
import { noExtraArgs, usage } from "../args";
import { tryOpen } from "../browser";
import { clientFor, seg } from "../client";
import { command, type CommandTable } from "../context";
import { resolveSettings, type Link } from "../settings";
import { appUrl, SERVICE_LEVELS, type ServiceTarget } from "./deploy";

const LEVELS = ["org", "project", "env", "service"] as const;

/** The parts given, else the linked ones; `[]` for no target at all (the dashboard home). */
function parts(arg: string | undefined, link: Link): string[] {
  if (arg === undefined) return LEVELS.map((l) => link[l]).filter((v, i, all): v is string => v !== undefined && all.slice(0, i).every(Boolean));
  const given = arg.split("/");
  if (given.length > 4 || given.some((p) => p === "")) throw usage(`"${arg}" is not a valid target; expected org[/project[/env[/service]]]`);
  return given;
}

/** The dashboard's page for `org/project/env/service` (any leading part of it). */
export function dashboardPath(p: string[]): string {
  const names = ["orgs", "projects", "envs", "services"];
  return "/" + p.map((v, i) => `${names[i]}/${seg(v)}`).join("/");
}

export const openCommands: CommandTable = {
  open: command({
    summary: "Open the dashboard page of the linked (or named) target, or with --app the app itself",
    usage: "open [org[/project[/env[/service]]]]",
    options: {
      app: { type: "boolean", description: "open the service's URL instead of its dashboard page" },
      "no-browser": { type: "boolean", description: "only print the URL" },
    },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const settings = resolveSettings(ctx);
      const p = parts(ctx.args[0], settings.link);
      let url: string;
      if (ctx.flags.app) {
        if (p.length !== SERVICE_LEVELS.length) throw usage("--app needs a service: pass org/project/env/service or run `ancla link org/project/env/service`");
        const [org, project, env, service] = p as [string, string, string, string];
        url = await appUrl(clientFor(ctx), { org, project, env, service } satisfies ServiceTarget);
      } else url = settings.server + dashboardPath(p);
      const opened = ctx.flags["no-browser"] !== true && tryOpen(url, ctx.env);
      if (opened && ctx.flags.quiet !== true) ctx.io.err("Opened in your browser:");
      return { kind: "text", text: url, data: { url, opened } };
    },
  }),
};
