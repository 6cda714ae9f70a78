// One zod schema for `ancla serve` settings; each comes from a flag, then ANCLA_<NAME>, then its default.
//
// Start-up: zod (~25 ms to evaluate) and this schema (~30 ms to build, ~15 ms for its first parse)
// are not needed to start `ancla serve` with ordinary settings, so neither is loaded for it:
// FAST reads each setting without zod — a default, or a value it is sure the schema accepts
// unchanged (a host:port, a whole number in range, one of an enum's words …) — and says BAIL for
// anything else (a URL, a duration, a value it would reject), and then the schema decides, as it
// always did (its errors are zod's). The schema is built on first use (`serveConfigSchema`) and
// test/unit/config-fast.test.ts checks that FAST's answer is the schema's whenever it gives one.
import { homedir } from "node:os";
import { join } from "node:path";
import type * as Zod from "zod";
// git-source (its address tables and node:dns) only when the schema checks --git-allow-hosts
const badAllowEntries = (entries: string[]): string[] => (require("./lib/git-source") as typeof import("./lib/git-source")).badAllowEntries(entries);

const HOST_PORT = /^[^\s:]+:\d{1,5}$|^\[[0-9a-f:]+\]:\d{1,5}$/i;
const EMAIL = /^[^\s@]+@[^\s@]+$/;

/** "536870912", "512MiB", "512M", "1.5GiB", "2GB" → bytes (K/M/G/T and KiB… are 1024-based, KB/MB/GB/TB 1000-based); null when it is no positive size. */
export function parseSize(v: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kib|kb|m|mib|mb|g|gib|gb|t|tib|tb)?$/i.exec(v.trim());
  if (!m) return null;
  const unit = (m[2] ?? "b").toLowerCase();
  if (unit === "b" && m[1]!.includes(".")) return null; // a fraction of a byte
  const scale = unit === "b" ? 1 : unit.endsWith("b") && !unit.endsWith("ib") ? 1000 ** ("kmgt".indexOf(unit[0]!) + 1) : 1024 ** ("kmgt".indexOf(unit[0]!) + 1);
  const n = Math.floor(Number(m[1]) * scale);
  return Number.isSafeInteger(n) && n > 0 ? n : null;
}
const SIZE_MESSAGE = "must be a size such as 536870912 (bytes), 512MiB or 32GiB";
const sizeOf = (z: Z) =>
  z.union([z.number(), z.string()]).transform((v, ctx) => {
    const n = typeof v === "number" ? (Number.isSafeInteger(v) && v > 0 ? v : null) : parseSize(v);
    if (n === null) ctx.addIssue({ code: "custom", message: SIZE_MESSAGE });
    return n ?? 0;
  });

/** "24h", "30m", "7d", "90s" or plain seconds → milliseconds; at least one minute. */
const durationOf = (z: Z) =>
  z
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
const FLAG_WORDS = ["true", "false", "1", "0", "yes", "no"] as const;
const flagBooleanOf = (z: Z) => z.union([z.boolean(), z.enum(FLAG_WORDS).transform((v) => ["true", "1", "yes"].includes(v))]);

type Z = typeof Zod.z;
/** What each setting means in `ancla serve --help` (a setting without one is described in cli/commands/server.ts); a new setting documents itself here. */
const DESCRIPTIONS = {
  logFormat: "server log lines: text or json (one object per line)",
  logLevel: "least severe log level written; debug adds one line per API request",
  healthNotFoundTimeout: "seconds a new web replica may answer 404 to its health check path before the deploy fails early (0: wait the service's deployment timeout)",
  reloadTimeout: "seconds a reload's new process may take to serve before it is abandoned (the old one keeps serving)",
  backupEvery: "write a backup this often, e.g. 24h, 30m, 7d (default: no scheduled backups)",
  backupKeep: "scheduled backups to keep (older ones are deleted)",
  backupDir: "where scheduled backups go (default <data-dir>/backups)",
  backupIncludeKey: "put master.key itself into backups (default: only its fingerprint)",
  githubWebhookSecret: "secret of GitHub webhooks for every project (a project may set its own)",
  githubApiUrl: "GitHub API for commit statuses of previews (GitHub Enterprise: https://HOST/api/v3)",
  githubToken: "token that may write commit statuses (previews); without one no status is sent",
  ssh: "address of the built-in SSH server for exec (ancla shell/ssh), or off",
  registryIssuer: "iss of registry tokens; the registry's auth.token.issuer must say the same",
  containerLabels: "labels for every container and network Ancla creates, key=value pairs comma separated (its own dev.ancla.* labels win)",
  maxVolumeRestoreSize: "largest unpacked volume archive a restore writes: bytes, or 512MiB, 32GiB … (default 32 GiB)",
  maxVolumeRestoreEntries: "most entries (files, directories, links) in a restored volume archive (default 1000000)",
};
const hostPortOf = (z: Z) => z.string().regex(HOST_PORT, "must be host:port");

const build = (z: Z) => {
  const hostPort = hostPortOf(z);
  const duration = durationOf(z);
  const flagBoolean = flagBooleanOf(z);
  const size = sizeOf(z);
  return z.object({
  dataDir: z.string().min(1).default(join(homedir(), ".ancla", "server")),
  listen: hostPort.default("127.0.0.1:8000"),
  router: hostPort.default("127.0.0.1:8080"),
  domain: z.string().min(1).default("localhost"),
  publicUrl: z.string().url().optional(),
  adminEmail: z.string().regex(EMAIL, "must be an email address").default("admin@localhost"),
  masterKey: z.string().optional(),
  maxContextSize: size.default(512 * 1024 * 1024),
  // a tar of millions of empty entries is tiny gzip'd but costs Docker minutes: entries are counted too
  maxContextEntries: z.coerce.number().int().positive().default(100_000),
  // a volume restore's archive once unpacked: a few MiB of gzip may unpack to terabytes, and a tar
  // of millions of empty files to no bytes and all the inodes of the disk every service shares
  maxVolumeRestoreSize: size.default(32 * 1024 ** 3),
  maxVolumeRestoreEntries: z.coerce.number().int().positive().default(1_000_000),
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
    .transform((v, ctx) => labelList(v) ?? (ctx.addIssue({ code: "custom", message: "must be key=value pairs, comma separated (keys of letters, digits, . _ - /; values without commas)" }), z.NEVER)),
  // bearer token a Prometheus scraper sends to GET /metrics (server admins' keys work too)
  metricsToken: z.string().min(16, "must be at least 16 characters").optional(),
  // automatic HTTPS for app traffic: the TLS listener, the ACME account's email and CA directory
  https: hostPort.optional(),
  acmeEmail: z.string().regex(EMAIL, "must be an email address").optional(),
  acmeDirectory: z.string().url().default("https://acme-v02.api.letsencrypt.org/directory"),
  // DNS server (host:port) that custom-domain checks ask; default: the system's resolver
  dnsServer: hostPort.optional(),
  // router limits: largest request body passed to an app, requests + WebSockets per client address
  routerMaxBodySize: size.default(1024 * 1024 * 1024),
  routerMaxPerClient: z.coerce.number().int().min(1).default(256),
  // seconds a retired replica's WebSockets may stay open during a deploy before they get 1001
  wsDrainTimeout: z.coerce.number().int().min(0).max(3600).default(10),
  // operations (README "Running in production"): logs, reloads, scheduled backups
  logFormat: z.enum(["text", "json"]).default("text"),
  logLevel: z.enum(["debug", "info", "warn", "error"]).default("info"),
  healthNotFoundTimeout: z.coerce.number().int().min(0).max(3600).default(30),
  reloadTimeout: z.coerce.number().int().min(1).max(3600).default(60),
  backupEvery: duration.optional(),
  backupKeep: z.coerce.number().int().min(1).max(1000).default(7),
  backupDir: z.string().min(1).optional(),
  backupIncludeKey: flagBoolean.default(false),
  // integrations (README "Deploy on git push"): GitHub webhooks and previews, the registry token server
  githubWebhookSecret: z.string().min(8, "must be at least 8 characters").optional(),
  githubApiUrl: z.string().url().default("https://api.github.com"),
  githubToken: z.string().min(1).optional(),
  // exec (README "Exec, runs, the release phase and volumes"): the built-in SSH server
  ssh: z.union([z.literal("off"), hostPort]).default("127.0.0.1:2222"),
  registryIssuer: z.string().min(1).max(255).default("ancla"),
  });
};

type Schema = ReturnType<typeof build>;
export type ServeConfig = Zod.infer<Schema>;
type Key = keyof ServeConfig & string;

let built: Schema | undefined;
/** The schema, built (and zod loaded) on first use: a require, so `ancla serve` with ordinary settings evaluates neither. */
const zod = () => require("./lib/zod") as typeof import("./lib/zod"); // the ESM zod every other module imports
const schema = (): Schema => (built ??= build(zod().z));
/** The zod schema of the settings (built on first access of any of its properties). */
export const serveConfigSchema: Schema = new Proxy({} as Schema, {
  get: (_, p) => Reflect.get(schema(), p),
  has: (_, p) => Reflect.has(schema(), p),
});

/** Let the schema decide (FAST is not sure it would accept the value unchanged). */
const BAIL: unique symbol = Symbol("bail");
type Fast<T> = (v: string | undefined) => T | typeof BAIL;
const text =
  (min = 0, max = Infinity) =>
  (v: string | undefined) =>
    v === undefined ? undefined : v.length >= min && v.length <= max ? v : BAIL;
const matching = (re: RegExp) => (v: string | undefined) => (v === undefined ? undefined : re.test(v) ? v : BAIL);
const whole =
  (min: number, max = Number.MAX_SAFE_INTEGER) =>
  (v: string | undefined) => {
    if (v === undefined) return undefined;
    const n = Number(v); // z.coerce.number()
    return Number.isSafeInteger(n) && n >= min && n <= max ? n : BAIL;
  };
const sized = (v: string | undefined) => (v === undefined ? undefined : (parseSize(v) ?? BAIL)); // the schema's own reading
const oneOf =
  <T extends string>(...words: T[]) =>
  (v: string | undefined) =>
    v === undefined ? undefined : (words as string[]).includes(v) ? (v as T) : BAIL;
const never = (v: string | undefined) => (v === undefined ? undefined : BAIL);
/** A value or, when absent, the default. */
const or =
  <T>(fast: Fast<T | undefined>, fallback: T): Fast<T> =>
  (v) => {
    const r = fast(v);
    return r === undefined ? fallback : r;
  };

/** Each setting without zod, in the schema's order: its default, or a value the schema takes as it is, else BAIL. */
const FAST: { [K in Key]-?: Fast<ServeConfig[K]> } = {
  dataDir: or(text(1), join(homedir(), ".ancla", "server")),
  listen: or(matching(HOST_PORT), "127.0.0.1:8000"),
  router: or(matching(HOST_PORT), "127.0.0.1:8080"),
  domain: or(text(1), "localhost"),
  publicUrl: never,
  adminEmail: or(matching(EMAIL), "admin@localhost"),
  masterKey: text(),
  maxContextSize: or(sized, 512 * 1024 * 1024),
  maxContextEntries: or(whole(1), 100_000),
  maxVolumeRestoreSize: or(sized, 32 * 1024 ** 3),
  maxVolumeRestoreEntries: or(whole(1), 1_000_000),
  gitAllowHosts: or(never, []),
  buildConcurrency: or(whole(1, 16), 1),
  sampleInterval: or(whole(1), 15),
  containerLabels: (v) => (v === undefined ? {} : (labelList(v) ?? BAIL)),
  metricsToken: text(16),
  https: matching(HOST_PORT),
  acmeEmail: matching(EMAIL),
  acmeDirectory: or(never, "https://acme-v02.api.letsencrypt.org/directory"),
  dnsServer: matching(HOST_PORT),
  routerMaxBodySize: or(sized, 1024 * 1024 * 1024),
  routerMaxPerClient: or(whole(1), 256),
  wsDrainTimeout: or(whole(0, 3600), 10),
  logFormat: or(oneOf("text", "json"), "text"),
  logLevel: or(oneOf("debug", "info", "warn", "error"), "info"),
  healthNotFoundTimeout: or(whole(0, 3600), 30),
  reloadTimeout: or(whole(1, 3600), 60),
  backupEvery: never,
  backupKeep: or(whole(1, 1000), 7),
  backupDir: text(1),
  backupIncludeKey: (v) => (v === undefined ? false : (FLAG_WORDS as readonly string[]).includes(v) ? ["true", "1", "yes"].includes(v) : BAIL),
  githubWebhookSecret: text(8),
  githubApiUrl: or(never, "https://api.github.com"),
  githubToken: text(1),
  ssh: or((v) => (v === "off" ? v : matching(HOST_PORT)(v)), "127.0.0.1:2222"),
  registryIssuer: or(text(1, 255), "ancla"),
};

/** Every setting's name, in the schema's order. */
export const SERVE_KEYS = Object.keys(FAST) as Key[];
/** A setting's own description (DESCRIPTIONS), if it has one. */
export const settingDescription = (key: string): string | undefined => (DESCRIPTIONS as Record<string, string>)[key];
/** A setting whose default is a boolean is a plain switch (`--backup-include-key`). */
export const isSwitchSetting = (key: string): boolean => key in FAST && typeof FAST[key as Key](undefined) === "boolean";

/** The settings read without zod, or null when the schema has to decide (test/unit/config-fast.test.ts). */
export function fastServeConfig(raw: Record<string, string>): ServeConfig | null {
  const config: Record<string, unknown> = {};
  for (const key of SERVE_KEYS) {
    const value = (FAST[key] as Fast<unknown>)(raw[key]);
    if (value === BAIL) return null;
    if (value !== undefined) config[key] = value;
  }
  return config as ServeConfig;
}

/** A ZodError's first issue as "key: message" (the error loadServeConfig throws for a bad setting), else null. */
export function settingIssue(e: unknown): string | null {
  if (!built || !(e instanceof zod().ZodError)) return null;
  const issue = e.issues[0]!;
  // named as the user set it: the flag and its variable, not the schema's key
  const key = String(issue.path[0] ?? "");
  const named = (SERVE_KEYS as readonly string[]).includes(key) ? `--${keyToFlag(key)} (${keyToEnv(key)})` : issue.path.join(".");
  return `${named}: ${issue.message}`;
}

/** `--data-dir` ⇄ dataDir ⇄ ANCLA_DATA_DIR */
export const flagToKey = (flag: string): string => flag.replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
export const keyToFlag = (key: string): string => key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
export const keyToEnv = (key: string): string => "ANCLA_" + key.replace(/[A-Z]/g, (c) => "_" + c).toUpperCase();

/** Merge flags over environment over defaults; throws the zod error for the caller to report (settingIssue). */
export function loadServeConfig(flags: Record<string, string>, env: Record<string, string | undefined> = process.env): ServeConfig {
  const raw: Record<string, string> = {};
  for (const key of SERVE_KEYS) {
    const fromEnv = env[keyToEnv(key)];
    if (fromEnv !== undefined && fromEnv !== "") raw[key] = fromEnv;
  }
  for (const [flag, value] of Object.entries(flags)) raw[flagToKey(flag)] = value;
  return fastServeConfig(raw) ?? schema().parse(raw);
}

export function splitHostPort(hp: string): { hostname: string; port: number } {
  const i = hp.lastIndexOf(":");
  return { hostname: hp.slice(0, i).replace(/^\[|\]$/g, ""), port: Number(hp.slice(i + 1)) };
}
