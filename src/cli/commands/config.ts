// `ancla config …`: list, set, delete and import variables at any of the five scopes.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { AppError } from "../../errors";
import { noExtraArgs, requireArg, usage, YES, type OptionTable } from "../args";
import { clientFor, seg, type ApiClient } from "../client";
import { command, type CommandTable, type ContextWith } from "../context";
import type { Column } from "../render";
import type { Link } from "../settings";
import type { ProjectDetail } from "../../modules/projects/model";
import { MAX_VALUE_BYTES, NAME_RE, type BulkConfigurationResponse, type ConfigurationSummary, type ResolvedVar } from "../../modules/config-vars/model";

type Scope = "organization" | "team" | "project" | "environment" | "service";
type Target = { org: string; project?: string; env?: string; service?: string };
type ScopeFlags = { scope?: string; team?: string };
type BulkResult = BulkConfigurationResponse;

const LEVELS: Scope[] = ["organization", "project", "environment", "service"];
const SCOPE_ALIASES: Record<string, Scope> = {
  organization: "organization", org: "organization", team: "team", project: "project",
  environment: "environment", env: "environment", service: "service", svc: "service", app: "service",
};

/** `org[/project[/env[/service]]]`, or the linked directory's deepest level when omitted. */
function parseTarget(arg: string | undefined, link: Link): Target {
  if (arg === undefined) {
    if (!link.org) throw usage("missing target: pass org[/project[/env[/service]]] or run `ancla link` in this directory");
    const t: Target = { org: link.org };
    if (link.project) t.project = link.project;
    if (link.project && link.env) t.env = link.env;
    if (link.project && link.env && link.service) t.service = link.service;
    return t;
  }
  const parts = arg.split("/");
  if (parts.length > 4 || parts.some((p) => p === "")) throw usage(`"${arg}" is not a valid target; expected org[/project[/env[/service]]]`);
  const [org, project, env, service] = parts as [string, string?, string?, string?];
  return { org, project, env, service };
}

const depthScope = (t: Target): Scope => (t.service ? "service" : t.env ? "environment" : t.project ? "project" : "organization");

function chooseScope(t: Target, flags: ScopeFlags): Scope {
  const raw = flags.scope;
  if (raw === undefined) return depthScope(t);
  const scope = SCOPE_ALIASES[raw.toLowerCase()];
  if (!scope) throw usage(`--scope must be one of organization, team, project, env, service (got "${raw}")`);
  const need = scope === "team" ? "project" : scope;
  if (LEVELS.indexOf(need) > LEVELS.indexOf(depthScope(t)) && !(scope === "team" && flags.team)) {
    throw usage(`--scope ${raw} needs a target down to the ${need}: ${["org", "project", "env", "service"].slice(0, LEVELS.indexOf(need) + 1).join("/")}`);
  }
  return scope;
}

/** The config path for the chosen scope; the team is the project's own unless --team names one. */
async function scopePath(client: ApiClient, t: Target, scope: Scope, flags: ScopeFlags): Promise<{ path: string; label: string }> {
  const o = `/api/v1/orgs/${seg(t.org)}`;
  if (scope === "organization") return { path: `${o}/config`, label: `organization ${t.org}` };
  if (scope === "team") {
    let team = flags.team;
    if (!team) {
      const project = await client.get<ProjectDetail>(`/api/v1/projects/${seg(t.org)}/${seg(t.project!)}`);
      if (!project.team_slug) throw usage(`project ${t.org}/${t.project} belongs to no team; pass --team SLUG`);
      team = project.team_slug;
    }
    return { path: `${o}/teams/${seg(team)}/config`, label: `team ${t.org}/${team}` };
  }
  const p = `${o}/projects/${seg(t.project!)}`;
  if (scope === "project") return { path: `${p}/config`, label: `project ${t.org}/${t.project}` };
  const e = `${p}/envs/${seg(t.env!)}`;
  if (scope === "environment") return { path: `${e}/config`, label: `environment ${t.org}/${t.project}/${t.env}` };
  return { path: `${e}/services/${seg(t.service!)}/config`, label: `service ${t.org}/${t.project}/${t.env}/${t.service}` };
}

async function locate(ctx: ContextWith<ScopeFlags>, targetArg: string | undefined) {
  const client = clientFor(ctx);
  const target = parseTarget(targetArg, client.settings.link);
  const scope = chooseScope(target, ctx.flags);
  return { client, target, scope, ...(await scopePath(client, target, scope, ctx.flags)) };
}

/** A target never contains '=', a KEY=value pair always does. */
const isPair = (s: string | undefined) => s !== undefined && s.includes("=");

/** Apply what the server refused as one error, after the rest was applied. */
function failOnErrors(r: BulkResult, done: string): void {
  if (!r.errors.length) return;
  const lines = r.errors.map((e) => `  ${e.line !== undefined ? `line ${e.line}` : e.name ?? "?"}: ${e.message}`);
  throw new AppError(422, `${done}, but ${r.errors.length} entr${r.errors.length === 1 ? "y was" : "ies were"} refused:\n${lines.join("\n")}`, "validation", 2);
}

/** Where a variable lives: every config command takes these. */
const SCOPE = {
  scope: { type: "string", value: "organization|team|project|env|service", description: "the scope to use (default: the target's depth)" },
  team: { type: "string", value: "SLUG", description: "the team for --scope team (default: the project's team)" },
} as const satisfies OptionTable;
const FLAGS = {
  secret: { type: "boolean", description: "store the values encrypted; they are never shown again" },
  buildtime: { type: "boolean", description: "also pass the values to the image build as build args" },
} as const satisfies OptionTable;

const varColumns: Column<ConfigurationSummary>[] = [
  { header: "NAME", get: (v) => v.name },
  { header: "VALUE", get: (v) => v.value },
  { header: "SECRET", get: (v) => (v.secret ? "yes" : "no") },
  { header: "BUILDTIME", get: (v) => (v.buildtime ? "yes" : "no") },
];

const listed = (names: string[]) => (names.length ? names.join(", ") : "none");

export const configCommands: CommandTable = {
  "config list": command({
    summary: "List config variables at a scope (or everything a service receives, with --resolved)",
    usage: "config list [org[/project[/env[/service]]]]",
    options: { ...SCOPE, resolved: { type: "boolean", description: "everything a service receives, with the scope each value comes from" } },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const { client, scope, path } = await locate(ctx, ctx.args[0]);
      if (ctx.flags.resolved === true) {
        if (scope !== "service") throw usage("--resolved needs a service target: org/project/env/service");
        const rows = await client.get<ResolvedVar[]>(`${path}/resolved`);
        return { kind: "table", rows, columns: [...varColumns, { header: "SCOPE", get: (v: ResolvedVar) => v.scope }] };
      }
      return { kind: "table", rows: await client.get<ConfigurationSummary[]>(path), columns: varColumns };
    },
  }),
  "config set": command({
    summary: "Set variables (KEY=value …; KEY=- reads the value from stdin)",
    usage: "config set [target] KEY=value …",
    options: { ...FLAGS, ...SCOPE },
    run: async (ctx) => {
      const targetArg = isPair(ctx.args[0]) ? undefined : ctx.args[0];
      const pairs = targetArg === undefined ? ctx.args : ctx.args.slice(1);
      if (!pairs.length) throw usage("nothing to set: pass KEY=value");
      const variables: Record<string, string> = {};
      let fromStdin = false;
      for (const pair of pairs) {
        const eq = pair.indexOf("=");
        if (eq < 0) throw usage(`"${pair}" is not KEY=value`);
        const name = pair.slice(0, eq);
        let value = pair.slice(eq + 1);
        if (!NAME_RE.test(name) || name.length > 255) throw usage(`"${name}" is not a valid name: use letters, digits and underscores, not starting with a digit`);
        if (value === "-") {
          if (fromStdin) throw usage("only one KEY=- can read its value from stdin");
          fromStdin = true;
          value = (await ctx.io.readStdin()).replace(/\r?\n$/, "");
        }
        if (Buffer.byteLength(value) > MAX_VALUE_BYTES) throw usage(`value of ${name} is larger than 64 KiB`);
        variables[name] = value;
      }
      const { client, label, path } = await locate(ctx, targetArg);
      const body = {
        variables,
        overwrite: true,
        secret: ctx.flags.secret === true ? true : undefined,
        buildtime: ctx.flags.buildtime === true ? true : undefined,
      };
      const r = await client.post<BulkResult>(`${path}/bulk`, body);
      const names = [...r.created, ...(r.updated ?? [])];
      failOnErrors(r, `set ${listed(names)} on ${label}`);
      return { kind: "text", text: `set ${listed(names)} on ${label}`, data: r };
    },
  }),
  "config delete": command({
    summary: "Delete a variable",
    usage: "config delete [target] KEY",
    options: { ...YES, ...SCOPE },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 2);
      const [targetArg, name] = ctx.args.length === 2 ? [ctx.args[0], ctx.args[1]!] : [undefined, requireArg(ctx.args, 0, "KEY")];
      const { client, label, path } = await locate(ctx, targetArg);
      if (ctx.flags.yes !== true) {
        if (!ctx.io.stdinIsTty) throw usage(`refusing to delete ${name} from ${label} without --yes`);
        const answer = prompt(`Delete ${name} from ${label}? [y/N]`) ?? "";
        if (!/^y(es)?$/i.test(answer.trim())) throw new AppError(1, "aborted", "aborted", 1);
      }
      await client.delete(`${path}/${seg(name)}`);
      return { kind: "text", text: `deleted ${name} from ${label}`, data: { ok: true, name } };
    },
  }),
  "config import": command({
    summary: "Import a .env file (bad lines are reported by number; the rest is applied)",
    usage: "config import [target] -f FILE",
    options: {
      file: { type: "string", short: "f", value: "FILE", description: "the .env file (- reads stdin)" },
      overwrite: { type: "boolean", description: "replace variables that exist (else they are skipped)" },
      ...FLAGS,
      ...SCOPE,
    },
    run: async (ctx) => {
      const file = ctx.flags.file;
      if (!file) throw usage("missing -f FILE (use -f - to read stdin)");
      const args = ctx.args;
      noExtraArgs(args, 1);
      let raw: string;
      try {
        raw = file === "-" ? await ctx.io.readStdin() : readFileSync(resolve(ctx.cwd, file), "utf8");
      } catch (e) {
        throw usage(`cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      }
      const { client, label, path } = await locate(ctx, args[0]);
      const body = {
        raw,
        overwrite: ctx.flags.overwrite === true,
        secret: ctx.flags.secret === true ? true : undefined,
        buildtime: ctx.flags.buildtime === true ? true : undefined,
      };
      const r = await client.post<BulkResult>(`${path}/bulk`, body);
      const summary = `imported into ${label}: created ${listed(r.created)}; updated ${listed(r.updated ?? [])}; skipped (exist, use --overwrite) ${listed(r.skipped)}`;
      failOnErrors(r, summary);
      return { kind: "text", text: summary, data: r };
    },
  }),
};
