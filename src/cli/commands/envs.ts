// `ancla envs …`: list, get, create and update a project's environments, and check a target
// (a Kubernetes environment's kubeconfig is read from a file here and sent; it is never shown back).
import { readFileSync, statSync } from "node:fs";
import { resolve } from "node:path";
import { AppError } from "../../errors";
import { noExtraArgs, requireArg, usage, type OptionTable } from "../args";
import { clientFor, seg } from "../client";
import { command, type CommandContext, type CommandTable } from "../context";
import type { Column, Output } from "../render";
import { resolveSettings, resolveTarget } from "../settings";
import type { EnvCheckResponse, EnvResponse } from "../../modules/envs/model";

type Env = EnvResponse;

const columns: Column<Env>[] = [
  { header: "SLUG", get: (e) => e.slug },
  { header: "NAME", get: (e) => e.name },
  { header: "TYPE", get: (e) => e.env_type },
  { header: "PROTECTED", get: (e) => (e.protected ? "yes" : "no") },
  { header: "TARGET", get: (e) => e.target },
  { header: "SERVICES", get: (e) => e.service_count },
];

const detailOutput = (e: Env): Output => ({
  kind: "object",
  value: {
    id: e.id,
    slug: e.slug,
    name: e.name,
    type: e.env_type,
    protected: e.protected,
    ephemeral: e.ephemeral,
    target: e.target,
    ...(e.target === "kubernetes" || e.kubeconfig_set
      ? {
          cluster: e.kubeconfig_server,
          context: e.context ?? "(current-context)",
          kubeconfig: e.kubeconfig_fingerprint,
          namespace: e.namespace,
          ingress_class: e.ingress_class,
          ingress_tls_secret: e.ingress_tls_secret,
          registry: e.registry_url,
          registry_username: e.registry_username,
          registry_password: e.registry_password_set ? "(set)" : null,
        }
      : { namespace: e.namespace }),
    auto_deploy_branch: e.auto_deploy_branch,
    services: e.service_count,
    created: e.created,
  },
  data: e,
});

const link = (ctx: CommandContext) => resolveSettings(ctx).link;

const MAX_KUBECONFIG = 256 * 1024;

/** Flags of a kubernetes environment, shared by create and update. */
const clusterOptions = {
  kubeconfig: { type: "string", value: "FILE", description: "kubeconfig file of the cluster (sent, stored encrypted, never shown)" },
  context: { type: "string", value: "NAME", description: "kubeconfig context (default: its current-context)" },
  namespace: { type: "string", value: "NS", description: "namespace (default ancla-<org>-<project>-<env>)" },
  "ingress-class": { type: "string", value: "CLASS", description: "ingressClassName of the Ingress objects" },
  "ingress-tls-secret": { type: "string", value: "SECRET", description: "TLS secret in the namespace the Ingress names" },
  registry: { type: "string", value: "URL", description: "registry the cluster pulls from, e.g. registry.example.com or 127.0.0.1:5000" },
  "registry-username": { type: "string", value: "USER", description: "registry login" },
  "registry-password-file": { type: "string", value: "FILE", description: "file holding the registry password ('-': stdin)" },
} satisfies OptionTable;

const readLocal = async (ctx: CommandContext, file: string, what: string): Promise<string> => {
  try {
    if (file === "-") return await ctx.io.readStdin();
    const path = resolve(ctx.cwd, file);
    if (statSync(path).size > MAX_KUBECONFIG) throw usage(`${file} is larger than 256 KiB`);
    return readFileSync(path, "utf8");
  } catch (e) {
    if (e instanceof AppError) throw e;
    throw usage(`cannot read the ${what} ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
};

/** The body fields the cluster flags set (unset flags stay out: an update changes only what is given). */
async function clusterFields(ctx: CommandContext): Promise<Record<string, unknown>> {
  const f = ctx.flags as Record<string, string | boolean | undefined>;
  const str = (k: string) => (typeof f[k] === "string" ? (f[k] as string) : undefined);
  const body: Record<string, unknown> = {
    context: str("context"),
    namespace: str("namespace"),
    ingress_class: str("ingress-class"),
    ingress_tls_secret: str("ingress-tls-secret"),
    registry_url: str("registry"),
    registry_username: str("registry-username"),
  };
  if (str("kubeconfig")) body.kubeconfig = await readLocal(ctx, str("kubeconfig")!, "kubeconfig");
  if (str("registry-password-file")) body.registry_password = (await readLocal(ctx, str("registry-password-file")!, "password file")).replace(/\r?\n$/, "");
  return body;
}
export const envsPath = (org: string, project: string) => `/api/v1/orgs/${seg(org)}/projects/${seg(project)}/envs`;

export const envCommands: CommandTable = {
  "envs list": command({
    summary: "List a project's environments",
    usage: "envs list [org/project]",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(ctx.args[0], ["org", "project"] as const, link(ctx));
      const rows = await clientFor(ctx).get<Env[]>(envsPath(t.org, t.project));
      return { kind: "table", rows, columns };
    },
  }),
  "envs get": command({
    summary: "Show an environment",
    usage: "envs get [org/project/]<env>",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(ctx.args[0], ["org", "project", "env"] as const, link(ctx));
      return detailOutput(await clientFor(ctx).get<Env>(`${envsPath(t.org, t.project)}/${seg(t.env)}`));
    },
  }),
  "envs create": command({
    summary: "Create an environment in a project",
    usage: "envs create [org/project/]<name>",
    options: {
      slug: { type: "string", value: "SLUG", description: "URL name (derived from the name when omitted)" },
      type: { type: "string", value: "TYPE", description: "production, staging, development or preview" },
      protected: { type: "boolean", description: "only org admins may deploy, roll back or promote here" },
      "auto-deploy-branch": { type: "string", value: "BRANCH", description: "deploy pushes to this branch" },
      target: { type: "string", value: "docker|kubernetes", description: "where its services run (default docker)" },
      ...clusterOptions,
    },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(requireArg(ctx.args, 0, "<name>"), ["org", "project", "env"] as const, link(ctx));
      const body = {
        name: t.env,
        slug: ctx.flags.slug,
        env_type: ctx.flags.type,
        protected: ctx.flags.protected === true ? true : undefined,
        auto_deploy_branch: ctx.flags["auto-deploy-branch"],
        target: ctx.flags.target,
        ...(await clusterFields(ctx)),
      };
      return detailOutput(await clientFor(ctx).post<Env>(envsPath(t.org, t.project), body));
    },
  }),
  "envs update": command({
    summary: "Change an environment's settings (target, cluster, registry, protection)",
    usage: "envs update [org/project/]<env>",
    options: {
      name: { type: "string", value: "NAME", description: "display name" },
      type: { type: "string", value: "TYPE", description: "production, staging, development or preview" },
      protected: { type: "string", value: "true|false", description: "only org admins may deploy, roll back or promote here" },
      target: { type: "string", value: "docker|kubernetes", description: "where its services run" },
      ...clusterOptions,
    },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(requireArg(ctx.args, 0, "<env>"), ["org", "project", "env"] as const, link(ctx));
      const f = ctx.flags as Record<string, string | boolean | undefined>;
      if (f.protected !== undefined && f.protected !== "true" && f.protected !== "false") throw usage("--protected takes true or false");
      const body = {
        name: f.name,
        env_type: f.type,
        protected: f.protected === undefined ? undefined : f.protected === "true",
        target: f.target,
        ...(await clusterFields(ctx)),
      };
      return detailOutput(await clientFor(ctx).patch<Env>(`${envsPath(t.org, t.project)}/${seg(t.env)}`, body));
    },
  }),
  "envs check": command({
    summary: "Check an environment's target: API server, namespace rights and registry login (Kubernetes), or the Docker engine",
    usage: "envs check [org/project/]<env>",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 1);
      const t = resolveTarget(requireArg(ctx.args, 0, "<env>"), ["org", "project", "env"] as const, link(ctx));
      const r = await clientFor(ctx).post<EnvCheckResponse>(`${envsPath(t.org, t.project)}/${seg(t.env)}/check`, {});
      if (!r.ok) {
        const failed = r.checks.filter((c) => !c.ok).map((c) => `${c.name}: ${c.message}`);
        throw new AppError(1, `check failed — ${failed.join("; ")}`, "check_failed", 1);
      }
      return {
        kind: "table",
        rows: r.checks,
        columns: [
          { header: "CHECK", get: (c: EnvCheckResponse["checks"][number]) => c.name },
          { header: "OK", get: (c: EnvCheckResponse["checks"][number]) => (c.ok ? "yes" : "no") },
          { header: "DETAIL", get: (c: EnvCheckResponse["checks"][number]) => c.message },
        ],
        data: r,
      };
    },
  }),
};
