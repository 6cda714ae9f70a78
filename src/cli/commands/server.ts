// Server-side commands: serve, migrate, backup, admin … — they work on the data dir directly.
import { existsSync } from "node:fs";
import { join } from "node:path";
import { loadServeConfig, type ServeConfig } from "../../config";
import { closeDeps, createDeps } from "../../deps";
import { assertExistingDatabase } from "../../lib/data-dir";
import { AppError, NotFound } from "../../errors";
import { randomBase62 } from "../../lib/ids";
import { findUserByLogin, updateUser, deleteUserSessions } from "../../modules/auth/repo";
import { createUser, hashPassword } from "../../modules/auth/service";
import { createApiKey } from "../../modules/keys/service";
import { rotateMasterKey } from "../../modules/config-vars/rotate";
import { serveUntilSignal } from "../../server";
import { flagString, type Flags } from "../args";
import type { CommandContext, CommandTable } from "../context";
import { ZodError } from "zod";

const SERVE_FLAGS = ["data-dir", "listen", "router", "domain", "public-url", "admin-email", "master-key", "max-context-size", "max-context-entries", "git-allow-hosts", "build-concurrency", "sample-interval"];

function serverConfig(ctx: CommandContext): ServeConfig {
  const flags: Record<string, string> = {};
  for (const name of SERVE_FLAGS) {
    const v = flagString(ctx.flags, name);
    if (v !== undefined) flags[name] = v;
  }
  try {
    return loadServeConfig(flags, ctx.env);
  } catch (e) {
    if (e instanceof ZodError) {
      const issue = e.issues[0]!;
      throw new AppError(2, `invalid setting ${issue.path.join(".")}: ${issue.message}`, "usage", 2);
    }
    throw e;
  }
}

/** Open the data dir's existing database for a one-off command (never a new one), run fn, close. */
async function withDeps<T>(ctx: CommandContext, fn: (deps: ReturnType<typeof createDeps>) => Promise<T> | T): Promise<T> {
  const config = serverConfig(ctx);
  assertExistingDatabase(config.dataDir); // before createDeps, which would create the dir, database and master.key
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

const bool = (flags: Flags, name: string) => flags[name] === true || flags[name] === "true";

export const serverCommands: CommandTable = {
  serve: {
    summary: "Run the Ancla server (API, dashboard, router, workers)",
    usage: "serve [--data-dir DIR] [--listen HOST:PORT] [--router HOST:PORT] [--domain D] [--public-url URL] [--admin-email E]",
    run: async (ctx) => {
      await serveUntilSignal(serverConfig(ctx));
      return { kind: "none" };
    },
  },
  migrate: {
    summary: "Apply database migrations to the data dir and exit",
    run: (ctx) => withDeps(ctx, () => ({ kind: "text", text: "database is up to date" })),
  },
  backup: {
    summary: "Write an online, consistent copy of the database (safe while serving)",
    usage: "backup <file>",
    run: (ctx) => {
      const file = need(ctx, 0, "<file>");
      if (existsSync(file)) throw new AppError(2, `${file} already exists; choose a new file`, "usage", 2);
      return withDeps(ctx, (deps) => {
        deps.sqlite.prepare("VACUUM INTO ?").run(file);
        const note = `keep ${join(deps.config.dataDir, "master.key")} with it: secret config values in the backup are encrypted with that key`;
        return { kind: "text", text: `backup written to ${file}\n${note}`, data: { file, master_key: join(deps.config.dataDir, "master.key") } };
      });
    },
  },
  "admin create-user": {
    summary: "Create a user in the data dir",
    usage: "admin create-user <username> <email> [--password P] [--admin]",
    run: (ctx) =>
      withDeps(ctx, async (deps) => {
        const password = flagString(ctx.flags, "password") ?? randomBase62(20);
        const user = await createUser(deps, { username: need(ctx, 0, "<username>"), email: need(ctx, 1, "<email>"), password, admin: bool(ctx.flags, "admin") });
        const value = { id: user.id, username: user.username, email: user.email, admin: user.isAdmin, password };
        return { kind: "object", value };
      }),
  },
  "admin reset-password": {
    summary: "Set a new password for a user (ends their sessions)",
    usage: "admin reset-password <username|email> [--password P]",
    run: (ctx) =>
      withDeps(ctx, async (deps) => {
        const user = findUserByLogin(deps.db, need(ctx, 0, "<username>"));
        if (!user) throw new NotFound("User");
        const password = flagString(ctx.flags, "password") ?? randomBase62(20);
        updateUser(deps.db, user.id, { passwordHash: await hashPassword(password) });
        deleteUserSessions(deps.db, user.id);
        return { kind: "object", value: { username: user.username, password } };
      }),
  },
  "admin create-key": {
    summary: "Create an API key for a user; the key is the last line of output",
    usage: "admin create-key <username|email> [--name NAME]",
    run: (ctx) =>
      withDeps(ctx, (deps) => {
        const user = findUserByLogin(deps.db, need(ctx, 0, "<username>"));
        if (!user) throw new NotFound("User");
        const key = createApiKey(deps, user.id, { name: flagString(ctx.flags, "name") ?? "admin-cli" });
        return { kind: "text", text: `created key ${key.key_id} for ${user.username}\n${key.key}`, data: key };
      }),
  },
  "admin rotate-master-key": {
    summary: "Re-encrypt every secret under a new master key (stop the server first)",
    usage: "admin rotate-master-key [--data-dir DIR]",
    run: (ctx) =>
      withDeps(ctx, (deps) => {
        const r = rotateMasterKey(deps);
        const text = `re-encrypted ${r.resealed} sealed value(s) under a new key in ${r.keyFile}\nthe previous key is kept in ${r.previousKeyFile} for older backups`;
        return { kind: "text", text: r.unreadable ? `${text}\nwarning: ${r.unreadable} value(s) did not open with the old key and were left as they were` : text, data: r };
      }),
  },
};
