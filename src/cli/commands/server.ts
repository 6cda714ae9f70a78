// Server-side commands: serve, migrate, admin … — they work on the data dir directly (backup,
// restore, upgrade and service install are in ops.ts).
// The server, the database and the modules are imported inside the commands (dynamic imports):
// only `ancla serve` evaluates the app, and no client command pays for it.
import { flagToKey, isSwitchSetting, keyToEnv, loadServeConfig, SERVE_KEYS, settingDescription, settingIssue, type ServeConfig } from "../../config";
import type { Deps } from "../../deps";
import { assertExistingDatabase } from "../../lib/data-dir";
import { AppError, NotFound } from "../../errors";
import { randomBase62 } from "../../lib/ids";
import { type OptionTable } from "../args";
import { command, type CommandContext, type CommandTable } from "../context";

/** What each `serve` setting means in --help; every key of the config schema is a flag (and an ANCLA_ variable). */
const SERVE_HELP: Record<string, [string, string]> = {
  "data-dir": ["DIR", "database, master key, logs and build contexts (default ~/.ancla/server)"],
  listen: ["HOST:PORT", "API and dashboard (default 127.0.0.1:8000)"],
  router: ["HOST:PORT", "app traffic (default 127.0.0.1:8080)"],
  domain: ["DOMAIN", "base domain of app hostnames (default localhost)"],
  "public-url": ["URL", "how users reach the API, for links and CLI login"],
  "admin-email": ["EMAIL", "email of the admin created on first start (default admin@localhost)"],
  "master-key": ["KEY", "encryption key of secrets (default: <data-dir>/master.key)"],
  "max-context-size": ["SIZE", "largest unpacked build context: bytes, or 512MiB, 2GiB … (default 512 MiB)"],
  "max-context-entries": ["N", "most files in a build context (default 100000)"],
  "max-volume-restore-size": ["SIZE", ""],
  "max-volume-restore-entries": ["N", ""],
  "git-allow-hosts": ["LIST", "private git hosts to allow: CIDRs, addresses, names, *.suffix, comma separated"],
  "build-concurrency": ["N", "builds at the same time (default 1)"],
  "sample-interval": ["SECONDS", "metrics sampling interval (default 15)"],
  "log-format": ["text|json", ""],
  "log-level": ["debug|info|warn|error", ""],
  "reload-timeout": ["SECONDS", ""],
  "backup-every": ["DURATION", ""],
  "backup-keep": ["N", ""],
  "backup-dir": ["DIR", ""],
};
const kebab = (key: string) => key.replace(/[A-Z]/g, (c) => "-" + c.toLowerCase());
export const SERVE_OPTIONS: OptionTable = Object.fromEntries(
  SERVE_KEYS.map((key) => {
    const flag = kebab(key);
    // config.ts's description wins, so a new setting documents itself where it is added
    const described = settingDescription(key);
    const [value, description] = described ? [SERVE_HELP[flag]?.[0] ?? "VALUE", described] : (SERVE_HELP[flag] ?? ["VALUE", "see the README"]);
    // a setting whose default is a boolean is a plain switch (`--backup-include-key`)
    const isSwitch = isSwitchSetting(key);
    return [flag, isSwitch ? { type: "boolean", description: `${description} (${keyToEnv(key)})` } : { type: "string", value, description: `${description} (${keyToEnv(key)})` }];
  }),
);
/** Commands that open the data dir directly need to find it (and its master key). */
const DATA_DIR_OPTIONS = { "data-dir": SERVE_OPTIONS["data-dir"]!, "master-key": SERVE_OPTIONS["master-key"]! } as const satisfies OptionTable;

function serverConfig(ctx: CommandContext): ServeConfig {
  const flags: Record<string, string> = {};
  for (const [name, value] of Object.entries(ctx.flags)) if ((typeof value === "string" || value === true) && (SERVE_KEYS as string[]).includes(flagToKey(name))) flags[name] = String(value);
  try {
    return loadServeConfig(flags, ctx.env);
  } catch (e) {
    const issue = settingIssue(e);
    if (issue) throw new AppError(2, `invalid setting ${issue}`, "usage", 2);
    throw e;
  }
}

/** Open the data dir's existing database for a one-off command (never a new one), run fn, close. */
async function withDeps<T>(ctx: CommandContext, fn: (deps: Deps) => Promise<T> | T): Promise<T> {
  const config = serverConfig(ctx);
  assertExistingDatabase(config.dataDir); // before createDeps, which would create the dir, database and master.key
  const { closeDeps, createDeps } = await import("../../deps");
  const deps = createDeps(config);
  try {
    return await fn(deps);
  } finally {
    closeDeps(deps);
  }
}

const need = (ctx: CommandContext, i: number, what: string): string => {
  const v = ctx.args[i];
  if (!v) throw new AppError(2, `missing argument: ${what}`, "usage", 2);
  return v;
};


export const serverCommands: CommandTable = {
  serve: command({
    summary: "Run the Ancla server (API, dashboard, router, workers)",
    usage: "serve",
    options: SERVE_OPTIONS,
    run: async (ctx) => {
      const config = serverConfig(ctx);
      const { serveUntilSignal } = await import("../../server");
      await serveUntilSignal(config);
      return { kind: "none" };
    },
  }),
  migrate: command({
    summary: "Apply database migrations to the data dir and exit",
    options: DATA_DIR_OPTIONS,
    run: (ctx) => withDeps(ctx, () => ({ kind: "text", text: "database is up to date" })),
  }),
  "admin create-user": command({
    summary: "Create a user in the data dir",
    usage: "admin create-user <username> <email>",
    options: {
      ...DATA_DIR_OPTIONS,
      password: { type: "string", value: "PASSWORD", description: "the password (default: a random one, printed)" },
      admin: { type: "boolean", description: "make the user a server admin" },
    },
    run: (ctx) =>
      withDeps(ctx, async (deps) => {
        const { createUser } = await import("../../modules/auth/service");
        const password = ctx.flags.password ?? randomBase62(20);
        const user = await createUser(deps, { username: need(ctx, 0, "<username>"), email: need(ctx, 1, "<email>"), password, admin: ctx.flags.admin === true });
        const value = { id: user.id, username: user.username, email: user.email, admin: user.isAdmin, password };
        return { kind: "object", value };
      }),
  }),
  "admin reset-password": command({
    summary: "Set a new password for a user (ends their sessions)",
    usage: "admin reset-password <username|email>",
    options: { ...DATA_DIR_OPTIONS, password: { type: "string", value: "PASSWORD", description: "the new password (default: a random one, printed)" } },
    run: (ctx) =>
      withDeps(ctx, async (deps) => {
        const [{ findUserByLogin, updateUser, deleteUserSessions }, { hashPassword }] = await Promise.all([import("../../modules/auth/repo"), import("../../modules/auth/service")]);
        const user = findUserByLogin(deps.db, need(ctx, 0, "<username>"));
        if (!user) throw new NotFound("User");
        const password = ctx.flags.password ?? randomBase62(20);
        updateUser(deps.db, user.id, { passwordHash: await hashPassword(deps, password) });
        deleteUserSessions(deps.db, user.id);
        return { kind: "object", value: { username: user.username, password } };
      }),
  }),
  "admin create-key": command({
    summary: "Create an API key for a user; the key is the last line of output",
    usage: "admin create-key <username|email>",
    options: { ...DATA_DIR_OPTIONS, name: { type: "string", value: "NAME", description: "the key's name (default admin-cli)" } },
    run: (ctx) =>
      withDeps(ctx, async (deps) => {
        const [{ findUserByLogin }, { createApiKey }] = await Promise.all([import("../../modules/auth/repo"), import("../../modules/keys/service")]);
        const user = findUserByLogin(deps.db, need(ctx, 0, "<username>"));
        if (!user) throw new NotFound("User");
        const key = createApiKey(deps, user.id, { name: ctx.flags.name ?? "admin-cli" });
        return { kind: "text", text: `created key ${key.key_id} for ${user.username}\n${key.key}`, data: key };
      }),
  }),
  "admin rotate-master-key": command({
    summary: "Re-encrypt every secret under a new master key (stop the server first)",
    usage: "admin rotate-master-key",
    options: DATA_DIR_OPTIONS,
    run: (ctx) =>
      withDeps(ctx, async (deps) => {
        const { rotateMasterKey } = await import("../../modules/config-vars/rotate");
        const r = rotateMasterKey(deps);
        const text = `re-encrypted ${r.resealed} sealed value(s) under a new key in ${r.keyFile}\nthe previous key is kept in ${r.previousKeyFile} for older backups`;
        return { kind: "text", text: r.unreadable ? `${text}\nwarning: ${r.unreadable} value(s) did not open with the old key and were left as they were` : text, data: r };
      }),
  }),
};
