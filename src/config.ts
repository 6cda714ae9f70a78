// One zod schema for `ancla serve` settings; each comes from a flag, then ANCLA_<NAME>, then its default.
import { homedir } from "node:os";
import { join } from "node:path";
import { z } from "zod";
import { badAllowEntries } from "./lib/git-source";

const hostPort = z
  .string()
  .regex(/^[^\s:]+:\d{1,5}$|^\[[0-9a-f:]+\]:\d{1,5}$/i, "must be host:port");

/** "24h", "30m", "7d", "90s" or plain seconds → milliseconds; at least one minute. */
const duration = z
  .string()
  .regex(/^\d+(\.\d+)?\s*(s|m|h|d)?$/i, "must be a duration such as 30m, 24h or 7d")
  .transform((v) => Number(/^[\d.]+/.exec(v)![0]) * ({ s: 1, m: 60, h: 3600, d: 86400 }[(/[smhd]$/i.exec(v.trim())?.[0] ?? "s").toLowerCase() as "s"]) * 1000)
  .refine((ms) => ms >= 60_000, "must be at least 1m");
// a Docker label key (reverse-DNS style) and a value that fits the comma-separated list
const LABEL_KEY = /^[A-Za-z0-9][A-Za-z0-9._\/-]{0,127}$/;
const LABEL_VALUE = /^[^,\u0000-\u001f\u007f]{0,256}$/;
/** "k=v,k2=v2" (flag, environment) or an object (tests) → labels; null when a pair is malformed. */
function labelList(v: string | Record<string, string>): Record<string, string> | null {
  const pairs = typeof v !== "string" ? Object.entries(v) : v.split(",").map((p) => p.trim()).filter(Boolean).map((p) => (p.includes("=") ? [p.slice(0, p.indexOf("=")).trim(), p.slice(p.indexOf("=") + 1).trim()] : [p, null]));
  return pairs.every(([k, val]) => LABEL_KEY.test(k!) && typeof val === "string" && LABEL_VALUE.test(val)) ? Object.fromEntries(pairs) : null;
}
const flagBoolean = z.union([z.boolean(), z.enum(["true", "false", "1", "0", "yes", "no"]).transform((v) => ["true", "1", "yes"].includes(v))]);

export const serveConfigSchema = z.object({
  dataDir: z.string().min(1).default(join(homedir(), ".ancla", "server")),
  listen: hostPort.default("127.0.0.1:8000"),
  router: hostPort.default("127.0.0.1:8080"),
  domain: z.string().min(1).default("localhost"),
  publicUrl: z.string().url().optional(),
  adminEmail: z.string().regex(/^[^\s@]+@[^\s@]+$/, "must be an email address").default("admin@localhost"),
  masterKey: z.string().optional(),
  maxContextSize: z.coerce.number().int().positive().default(512 * 1024 * 1024),
  // a tar of millions of empty entries is tiny gzip'd but costs Docker minutes: entries are counted too
  maxContextEntries: z.coerce.number().int().positive().default(100_000),
  // git hosts the operator trusts beyond public addresses: comma separated CIDRs, addresses, names, *.suffix
  gitAllowHosts: z
    .union([z.string(), z.array(z.string())])
    .default([])
    .transform((v) => (typeof v === "string" ? v.split(",") : v).map((e) => e.trim()).filter(Boolean))
    .refine((v) => badAllowEntries(v).length === 0, "must be CIDRs (10.0.0.0/8), addresses or host names (git.internal, *.corp.example), comma separated"),
  buildConcurrency: z.coerce.number().int().min(1).max(16).default(1),
  sampleInterval: z.coerce.number().int().min(1).default(15),
  containerLabels: z
    .union([z.string(), z.record(z.string(), z.string())])
    .default({})
    .transform((v, ctx) => labelList(v) ?? (ctx.addIssue({ code: "custom", message: "must be key=value pairs, comma separated (keys of letters, digits, . _ - /; values without commas)" }), z.NEVER))
    .describe("labels for every container and network Ancla creates, key=value pairs comma separated (its own dev.ancla.* labels win)"),
  // bearer token a Prometheus scraper sends to GET /metrics (server admins' keys work too)
  metricsToken: z.string().min(16, "must be at least 16 characters").optional(),
  // automatic HTTPS for app traffic: the TLS listener, the ACME account's email and CA directory
  https: hostPort.optional(),
  acmeEmail: z.string().regex(/^[^\s@]+@[^\s@]+$/, "must be an email address").optional(),
  acmeDirectory: z.string().url().default("https://acme-v02.api.letsencrypt.org/directory"),
  // DNS server (host:port) that custom-domain checks ask; default: the system's resolver
  dnsServer: hostPort.optional(),
  // router limits: largest request body passed to an app, requests + WebSockets per client address
  routerMaxBodySize: z.coerce.number().int().positive().default(1024 * 1024 * 1024),
  routerMaxPerClient: z.coerce.number().int().min(1).default(256),
  // seconds a retired replica's WebSockets may stay open during a deploy before they get 1001
  wsDrainTimeout: z.coerce.number().int().min(0).max(3600).default(10),
  // operations (README "Running in production"): logs, reloads, scheduled backups
  logFormat: z.enum(["text", "json"]).default("text").describe("server log lines: text or json (one object per line)"),
  logLevel: z.enum(["debug", "info", "warn", "error"]).default("info").describe("least severe log level written; debug adds one line per API request"),
  healthNotFoundTimeout: z.coerce.number().int().min(0).max(3600).default(30).describe("seconds a new web replica may answer 404 to its health check path before the deploy fails early (0: wait the service's deployment timeout)"),
  reloadTimeout: z.coerce.number().int().min(1).max(3600).default(60).describe("seconds a reload's new process may take to serve before it is abandoned (the old one keeps serving)"),
  backupEvery: duration.optional().describe("write a backup this often, e.g. 24h, 30m, 7d (default: no scheduled backups)"),
  backupKeep: z.coerce.number().int().min(1).max(1000).default(7).describe("scheduled backups to keep (older ones are deleted)"),
  backupDir: z.string().min(1).optional().describe("where scheduled backups go (default <data-dir>/backups)"),
  backupIncludeKey: flagBoolean.default(false).describe("put master.key itself into backups (default: only its fingerprint)"),
  // integrations (README "Deploy on git push"): GitHub webhooks and previews, the registry token server
  githubWebhookSecret: z.string().min(8, "must be at least 8 characters").optional().describe("secret of GitHub webhooks for every project (a project may set its own)"),
  githubApiUrl: z.string().url().default("https://api.github.com").describe("GitHub API for commit statuses of previews (GitHub Enterprise: https://HOST/api/v3)"),
  githubToken: z.string().min(1).optional().describe("token that may write commit statuses (previews); without one no status is sent"),
  // exec (README "Exec, runs, the release phase and volumes"): the built-in SSH server
  ssh: z.union([z.literal("off"), hostPort]).default("127.0.0.1:2222").describe("address of the built-in SSH server for exec (ancla shell/ssh), or off"),
  registryIssuer: z.string().min(1).max(255).default("ancla").describe("iss of registry tokens; the registry's auth.token.issuer must say the same"),
});
export type ServeConfig = z.infer<typeof serveConfigSchema>;

/** `--data-dir` ⇄ dataDir ⇄ ANCLA_DATA_DIR */
export const flagToKey = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
export const keyToEnv = (key: string): string => "ANCLA_" + key.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();

/** Merge flags over environment over defaults; throws the zod error for the caller to report. */
export function loadServeConfig(flags: Record<string, string>, env: Record<string, string | undefined> = process.env): ServeConfig {
  const raw: Record<string, string> = {};
  for (const key of Object.keys(serveConfigSchema.shape)) {
    const fromEnv = env[keyToEnv(key)];
    if (fromEnv !== undefined && fromEnv !== "") raw[key] = fromEnv;
  }
  for (const [flag, value] of Object.entries(flags)) raw[flagToKey(flag)] = value;
  return serveConfigSchema.parse(raw);
}

export function splitHostPort(hp: string): { hostname: string; port: number } {
  const i = hp.lastIndexOf(":");
  return { hostname: hp.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(hp.slice(i + 1)) };
}
