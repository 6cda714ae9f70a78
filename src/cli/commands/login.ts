// `ancla login`: browser login through a one-shot callback listener on 127.0.0.1, or --manual
// with a pasted API key. Either way the key is checked against the server before it is saved.
import { hostname } from "node:os";
import { AppError, Unauthorized } from "../../errors";
import { noExtraArgs } from "../args";
import { createClient, NETWORK_EXIT } from "../client";
import { command, type CommandContext, type CommandTable, type ContextWith } from "../context";
import { resolveSettings, writeCliFile, type Settings } from "../settings";
import { tryOpen } from "../browser";
import type { SessionResponse, UserResponse } from "../../modules/auth/model";

const KEY_RE = /^ancla_[0-9A-Za-z]{40}$/;
const CODE_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"; // no 0/O or 1/I to misread
const DEFAULT_TIMEOUT_S = 300;

type SessionUser = UserResponse;

/** XXXX-XXXX from a uniform alphabet of 32 (256 is a multiple of 32: no modulo bias). */
export function confirmationCode(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(8));
  const chars = Array.from(bytes, (b) => CODE_ALPHABET[b % CODE_ALPHABET.length]!);
  return `${chars.slice(0, 4).join("")}-${chars.slice(4).join("")}`;
}

const page = (title: string, text: string) =>
  new Response(`<!doctype html><meta charset="utf-8"><link rel="icon" href="data:,"><title>${title}</title><h1>${title}</h1><p>${text}</p>`, {
    headers: { "content-type": "text/html; charset=utf-8", "referrer-policy": "no-referrer" },
  });

/** Fail before opening a browser when the server is not there (or is not an Ancla server). */
async function assertServerReachable(server: string): Promise<void> {
  let ok = false;
  try {
    const res = await fetch(`${server}/api/v1/integrations/health`, { signal: AbortSignal.timeout(10_000), redirect: "manual" });
    ok = res.ok && ((await res.json().catch(() => null)) as { status?: string } | null)?.status === "ok";
  } catch (e) {
    throw new AppError(0, `cannot reach the Ancla server at ${server}: ${(e as Error).message}`, "network", NETWORK_EXIT);
  }
  if (!ok) throw new AppError(0, `${server} does not answer like an Ancla server (GET /api/v1/integrations/health); check --server`, "network", NETWORK_EXIT);
}

/** Wait for the browser to hand back a key on http://127.0.0.1:<random port>/callback. */
async function browserLogin(ctx: ContextWith<{ "no-browser"?: boolean }>, server: string): Promise<string> {
  await assertServerReachable(server);
  const code = confirmationCode();
  const timeoutS = Number(ctx.env.ANCLA_LOGIN_TIMEOUT) > 0 ? Number(ctx.env.ANCLA_LOGIN_TIMEOUT) : DEFAULT_TIMEOUT_S;
  let settle!: { resolve: (key: string) => void; reject: (e: Error) => void };
  const result = new Promise<string>((resolve, reject) => (settle = { resolve, reject }));
  const listener = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    fetch(req) {
      const url = new URL(req.url);
      if (req.method !== "GET" || url.pathname !== "/callback") return new Response("Not found", { status: 404 });
      const q = url.searchParams;
      // a page that does not know our code cannot complete (or cancel) this login
      if (q.get("code") !== code) return page("Code mismatch", "This response does not belong to the login waiting in your terminal.");
      if (q.get("error")) {
        settle.reject(new AppError(3, "login was denied in the browser", "denied", 3));
        return page("Login denied", "No key was created. You can close this tab.");
      }
      const key = q.get("api_key") ?? "";
      if (!KEY_RE.test(key)) {
        settle.reject(new AppError(1, "the browser returned no valid API key", "protocol", 1));
        return page("Login failed", "The server did not return a valid key. Try `ancla login --manual`.");
      }
      settle.resolve(key);
      return page("Logged in", "The Ancla CLI is logged in. You can close this tab and return to your terminal.");
    },
  });
  const host = hostname().replace(/[^A-Za-z0-9.-]/g, "").replace(/^[.-]+|[.-]+$/g, "").slice(0, 63);
  const url = `${server}/cli-auth?${new URLSearchParams({ code, port: String(listener.port), ...(host ? { host } : {}) })}`;
  ctx.io.err(`Your confirmation code: ${code}`);
  const opened = ctx.flags["no-browser"] !== true && tryOpen(url, ctx.env);
  ctx.io.err(opened ? `Opened your browser. If nothing appeared, open this URL:\n  ${url}` : `Open this URL in a browser to log in:\n  ${url}`);
  ctx.io.err("Check that the browser shows the same code, then choose Authorize.");
  const timer = setTimeout(
    () => settle.reject(new AppError(1, `no answer from the browser within ${timeoutS % 60 === 0 ? `${timeoutS / 60} minutes` : `${timeoutS} s`}; try \`ancla login --manual\` with an API key from the dashboard`, "timeout", 1)),
    timeoutS * 1000,
  );
  try {
    return await result;
  } finally {
    clearTimeout(timer);
    // let the browser receive its "you can close this tab" page before the listener (and, on
    // failure, the process) goes away
    await Bun.sleep(250);
    listener.stop(true);
  }
}

async function manualKey(ctx: CommandContext, server: string): Promise<string> {
  let raw: string;
  if (ctx.io.stdinIsTty) {
    ctx.io.err(`Create a key in the dashboard (${server}/keys) and paste it here.`);
    raw = prompt("API key:") ?? "";
  } else raw = await ctx.io.readStdin();
  const key = raw.trim().split(/\r?\n/)[0]?.trim() ?? "";
  if (!key) throw new AppError(2, "no API key given on standard input", "usage", 2);
  if (!KEY_RE.test(key)) throw new AppError(2, "that is not an Ancla API key (expected ancla_ followed by 40 letters and digits)", "usage", 2);
  return key;
}

async function verifyKey(settings: Settings, key: string): Promise<SessionUser> {
  const client = createClient({ ...settings, apiKey: key, sources: { ...settings.sources, apiKey: "flag" } });
  const session = await client.get<SessionResponse>("/api/v1/auth/session");
  if (!session.authenticated || !session.user) throw new Unauthorized(`the server at ${settings.server} did not accept the key`);
  return session.user;
}

export const loginCommands: CommandTable = {
  login: command({
    summary: "Log in through the browser (or --manual with an API key) and save the key",
    usage: "login",
    options: {
      manual: { type: "boolean", description: "paste an API key (or pipe it on stdin) instead of the browser login" },
      "no-browser": { type: "boolean", description: "print the login URL instead of opening a browser" },
    },
    run: async (ctx) => {
      noExtraArgs(ctx.args, 0);
      const settings = resolveSettings(ctx);
      const key = ctx.flags.manual === true ? await manualKey(ctx, settings.server) : await browserLogin(ctx, settings.server);
      const user = await verifyKey(settings, key);
      writeCliFile(settings.userFile, { server: settings.server, api_key: key, username: user.username, email: user.email ?? undefined });
      return {
        kind: "text",
        text: `Logged in to ${settings.server} as ${user.username}; key saved in ${settings.userFile}`,
        data: { server: settings.server, username: user.username, email: user.email, file: settings.userFile },
      };
    },
  }),
};
