// `ancla whoami` and `ancla logout`: who the saved key belongs to, and forgetting it.
import { existsSync } from "node:fs";
import { Unauthorized } from "../../errors";
import { noExtraArgs } from "../args";
import { createClient } from "../client";
import { command, type CommandTable } from "../context";
import type { SessionResponse } from "../../modules/auth/model";
import { readCliFile, resolveSettings, writeCliFile } from "../settings";


export const sessionCommands: CommandTable = {
  whoami: command({
    summary: "Show the user the API key belongs to",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 0);
      const settings = resolveSettings(ctx);
      const session = await createClient(settings).get<SessionResponse>("/api/v1/auth/session");
      if (!session.authenticated || !session.user) throw new Unauthorized("the server did not accept the API key; run `ancla login`");
      const u = session.user;
      return {
        kind: "object",
        value: { username: u.username, email: u.email, admin: u.admin, server: settings.server, key_from: settings.sources.apiKey },
        data: { server: settings.server, user: u },
      };
    },
  }),
  logout: command({
    summary: "Forget the saved API key (~/.ancla/config.yaml, or --config FILE)",
    run: async (ctx) => {
      noExtraArgs(ctx.args, 0);
      const settings = resolveSettings(ctx);
      const file = settings.userFile;
      const had = existsSync(file) && readCliFile(file).api_key !== undefined;
      if (had) writeCliFile(file, { api_key: undefined, username: undefined, email: undefined });
      const still = settings.sources.apiKey === "flag" || settings.sources.apiKey === "env" || settings.sources.apiKey === "project file";
      const note = still ? ` (a key is still given by ${settings.sources.apiKey === "env" ? "ANCLA_API_KEY" : settings.sources.apiKey})` : "";
      const text = had ? `logged out: removed the API key from ${file}${note}` : `not logged in: no API key saved in ${file}${note}`;
      return { kind: "text", text, data: { logged_out: had, file } };
    },
  }),
};
