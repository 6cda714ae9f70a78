// `ancla orgs …`: list, get and create organizations; add, remove and promote members.
import { AppError, NotFound } from "../../errors";
import { noExtraArgs, requireArg } from "../args";
import { clientFor, seg, type ApiClient } from "../client";
import { command, type CommandContext, type CommandTable } from "../context";
import type { Column, Output } from "../render";
import { resolveSettings, resolveTarget } from "../settings";

import type { Member, OrgDetail, OrgSummary, ToggleAdminResponse } from "../../modules/orgs/model";

const summaryColumns: Column<OrgSummary>[] = [
  { header: "SLUG", get: (o) => o.slug },
  { header: "NAME", get: (o) => o.name },
  { header: "MEMBERS", get: (o) => o.member_count },
  { header: "PROJECTS", get: (o) => o.project_count },
];

const memberColumns: Column<Member>[] = [
  { header: "USERNAME", get: (m) => m.username },
  { header: "EMAIL", get: (m) => m.email },
  { header: "ADMIN", get: (m) => (m.admin ? "yes" : "no") },
  { header: "USER ID", get: (m) => m.user_id },
];

export const detailOutput = (o: OrgDetail): Output => ({
  kind: "object",
  value: {
    id: o.id,
    slug: o.slug,
    name: o.name,
    projects: o.project_count,
    applications: o.application_count,
    members: o.members.map((m) => (m.admin ? `${m.username} (admin)` : m.username)).join(", "),
  },
  data: o,
});

/** `[org]`: the argument, else the linked organization. */
const orgArg = (ctx: CommandContext, arg: string | undefined): string =>
  resolveTarget(arg, ["org"] as const, resolveSettings(ctx).link).org;

/** `<org> <user>` or, in a linked directory, just `<user>`. */
function orgAndUser(ctx: CommandContext): { org: string; user: string } {
  noExtraArgs(ctx.args, 2);
  if (ctx.args.length === 2) return { org: ctx.args[0]!, user: ctx.args[1]! };
  return { org: orgArg(ctx, undefined), user: requireArg(ctx.args, 0, "<username>") };
}

/** A member's user id from a username, email or id (the API's member routes take ids). */
async function memberId(client: ApiClient, org: string, who: string): Promise<Member> {
  const detail = await client.get<OrgDetail>(`/api/v1/organizations/${seg(org)}`);
  const member = detail.members.find((m) => m.user_id === who || m.username === who || m.email === who);
  if (!member) throw new NotFound(`Member "${who}" of ${org}`);
  return member;
}

export const orgCommands: CommandTable = {
  "orgs list": command({
    summary: "List your organizations",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 0);
      const rows = await clientFor(ctx).get<OrgSummary[]>("/api/v1/organizations");
      return { kind: "table", rows, columns: summaryColumns };
    },
  }),
  "orgs get": command({
    summary: "Show an organization and its members",
    usage: "orgs get [org]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const org = orgArg(ctx, ctx.args[0]);
      return detailOutput(await clientFor(ctx).get<OrgDetail>(`/api/v1/organizations/${seg(org)}`));
    },
  }),
  "orgs create": command({
    summary: "Create an organization (you become its admin)",
    usage: "orgs create <name>",
    options: { slug: { type: "string", value: "SLUG", description: "URL name (derived from the name when omitted)" } },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const body = { name: requireArg(ctx.args, 0, "<name>"), slug: ctx.flags.slug };
      return detailOutput(await clientFor(ctx).post<OrgDetail>("/api/v1/organizations", body));
    },
  }),
  "orgs members list": command({
    summary: "List an organization's members",
    usage: "orgs members list [org]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const detail = await clientFor(ctx).get<OrgDetail>(`/api/v1/organizations/${seg(orgArg(ctx, ctx.args[0]))}`);
      return { kind: "table", rows: detail.members, columns: memberColumns };
    },
  }),
  "orgs members add": command({
    summary: "Add a user to an organization by username (org admin)",
    usage: "orgs members add [org] <username>",
    run: async (ctx) => {
      const { org, user } = orgAndUser(ctx);
      const detail = await clientFor(ctx).post<OrgDetail>(`/api/v1/organizations/${seg(org)}/members`, { username: user });
      return { kind: "table", rows: detail.members, columns: memberColumns, data: detail };
    },
  }),
  "orgs members remove": command({
    summary: "Remove a member from an organization (org admin; never the last admin)",
    usage: "orgs members remove [org] <username|user-id>",
    run: async (ctx) => {
      const { org, user } = orgAndUser(ctx);
      const client = clientFor(ctx);
      const member = await memberId(client, org, user);
      await client.delete(`/api/v1/organizations/${seg(org)}/members/${seg(member.user_id)}`);
      return { kind: "text", text: `removed ${member.username} from ${org}`, data: { ok: true, org, user_id: member.user_id, username: member.username } };
    },
  }),
  "orgs members toggle-admin": command({
    summary: "Make a member an org admin, or an admin a plain member (org admin)",
    usage: "orgs members toggle-admin [org] <username|user-id>",
    run: async (ctx) => {
      const { org, user } = orgAndUser(ctx);
      const client = clientFor(ctx);
      const member = await memberId(client, org, user);
      const res = await client.post<ToggleAdminResponse>(`/api/v1/organizations/${seg(org)}/members/${seg(member.user_id)}/toggle-admin`);
      if (typeof res?.admin !== "boolean") throw new AppError(502, "server answered toggle-admin without an admin flag", "protocol", 1);
      const text = `${member.username} is ${res.admin ? "now an admin" : "no longer an admin"} of ${org}`;
      return { kind: "text", text, data: { ...res, org, user_id: member.user_id, username: member.username } };
    },
  }),
};
