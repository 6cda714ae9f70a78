// Running Ancla in production: backup, restore, upgrade and service install. They work on the
// data dir and the machine directly (no API key), like the other server-side commands. The
// database, the backup archive and the upgrade steps are imported inside the commands that use them.
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { join, resolve } from "node:path";
import { loadServeConfig, settingIssue, type ServeConfig } from "../../config";
import { AppError } from "../../errors";
import { assertExistingDatabase } from "../../lib/data-dir";
import { DEFAULT_BINARY, DEFAULT_DATA_DIR, DEFAULT_USER, installPlan, systemdUnit, uninstallPlan, withoutSystemd, UNIT_PATH, type ServiceOptions } from "../../modules/ops/systemd";
import type { OptionTable } from "../args";
import { command, type CommandContext, type CommandTable } from "../context";
import { SERVE_OPTIONS } from "./server";

const DATA_DIR = { "data-dir": { type: "string", value: "DIR", description: "the server's data dir (ANCLA_DATA_DIR; default ~/.ancla/server)" } } as const satisfies OptionTable;
const MASTER_KEY = { "master-key": { type: "string", value: "KEY", description: "the master key, when not in <data-dir>/master.key (ANCLA_MASTER_KEY)" } } as const satisfies OptionTable;

function config(ctx: CommandContext, flags: Record<string, string | undefined>): ServeConfig {
  try {
    return loadServeConfig(Object.fromEntries(Object.entries(flags).filter((e): e is [string, string] => typeof e[1] === "string")), ctx.env);
  } catch (e) {
    const issue = settingIssue(e);
    if (issue) throw new AppError(2, `invalid setting ${issue}`, "usage", 2);
    throw e;
  }
}

const need = (ctx: CommandContext, i: number, what: string): string => {
  const v = ctx.args[i];
  if (!v) throw new AppError(2, `missing argument: ${what}`, "usage", 2);
  return v;
};

/** `sudo ancla upgrade` runs as root with its own HOME: fall back to the service's data dir. */
function serverDataDir(ctx: CommandContext, flag: string | undefined): string {
  const dir = config(ctx, { "data-dir": flag }).dataDir;
  if (flag || ctx.env.ANCLA_DATA_DIR || existsSync(join(dir, "serve.pid"))) return dir;
  return existsSync(join(DEFAULT_DATA_DIR, "serve.pid")) ? DEFAULT_DATA_DIR : dir;
}

async function run(argv: string[]): Promise<void> {
  const proc = Bun.spawn(argv, { stdin: "ignore", stdout: "inherit", stderr: "inherit" });
  const code = await proc.exited;
  if (code !== 0) throw new AppError(1, `\`${argv.join(" ")}\` failed (exit ${code})`, "internal", 1);
}


export const opsCommands: CommandTable = {
  backup: command({
    summary: "Write a backup archive (database + master key fingerprint) while the server runs",
    usage: "backup <file>",
    options: { ...DATA_DIR, ...MASTER_KEY, "include-key": { type: "boolean", description: "put master.key itself into the backup (keep the file as safe as the key)" } },
    run: async (ctx) => {
      const file = resolve(ctx.cwd, need(ctx, 0, "<file>"));
      if (existsSync(file)) throw new AppError(2, `${file} already exists; choose a new file`, "usage", 2);
      const cfg = config(ctx, { "data-dir": ctx.flags["data-dir"], "master-key": ctx.flags["master-key"] });
      assertExistingDatabase(cfg.dataDir); // never create a database just to back it up
      const [{ closeDeps, createDeps }, { writeBackup }] = await Promise.all([import("../../deps"), import("../../modules/backups/service")]);
      const deps = createDeps(cfg);
      try {
        const b = await writeBackup(deps, { file, includeKey: ctx.flags["include-key"] === true });
        const key = b.manifest.master_key;
        const note = key.included
          ? "master.key is inside: keep this file as safe as the key itself"
          : `master.key is not inside (fingerprint ${key.fingerprint}); keep ${join(cfg.dataDir, "master.key")} safe: secrets in the backup need it`;
        return { kind: "text", text: `backup written to ${b.file} (${b.bytes} bytes)\n${note}`, data: { file: b.file, bytes: b.bytes, ...b.manifest } };
      } finally {
        closeDeps(deps);
      }
    },
  }),
  restore: command({
    summary: "Restore a backup into a new, empty data dir",
    usage: "restore <file> --data-dir DIR",
    options: { ...DATA_DIR, "master-key-file": { type: "string", value: "FILE", description: "the master key the backup was made with, when it is not inside (checked against its fingerprint)" } },
    run: async (ctx) => {
      const file = resolve(ctx.cwd, need(ctx, 0, "<file>"));
      const dataDir = resolve(ctx.cwd, config(ctx, { "data-dir": ctx.flags["data-dir"] }).dataDir);
      const keyFile = ctx.flags["master-key-file"] ? resolve(ctx.cwd, ctx.flags["master-key-file"]) : undefined;
      const { restoreBackup } = await import("../../modules/backups/service");
      const r = await restoreBackup(file, dataDir, { masterKeyFile: keyFile });
      const lines = [`restored ${r.created_at ? `the backup of ${r.created_at}` : "the database"} into ${r.data_dir}`];
      if (r.master_key === "missing") {
        lines.push(`no master key restored: put the key${r.fingerprint ? ` with fingerprint ${r.fingerprint}` : ""} at ${join(r.data_dir, "master.key")} (or set ANCLA_MASTER_KEY) before starting; secrets cannot be read without it`);
      }
      lines.push(`start it with: ancla serve --data-dir ${r.data_dir}${r.schema ? " (pending migrations are applied on start)" : ""}`);
      return { kind: "text", text: lines.join("\n"), data: r };
    },
  }),
  upgrade: command({
    summary: "Replace the server's binary and reload it without dropping requests (old one kept as ancla.previous)",
    usage: "upgrade <new-binary>",
    options: {
      ...DATA_DIR,
      binary: { type: "string", value: "PATH", description: "the installed binary to replace (default: the running server's executable)" },
      timeout: { type: "string", value: "SECONDS", description: "how long to wait for the new process to serve (default 120)" },
    },
    run: async (ctx) => {
      const source = resolve(ctx.cwd, need(ctx, 0, "<new-binary>"));
      const dataDir = serverDataDir(ctx, ctx.flags["data-dir"]);
      const { binaryVersion, executableOf, reloadAndWait, restorePrevious, serverPid, swapBinary } = await import("../../modules/ops/upgrade");
      const pid = serverPid(dataDir);
      const running = pid ? executableOf(pid) : null;
      const target = ctx.flags.binary ? resolve(ctx.cwd, ctx.flags.binary) : running;
      if (!target) throw new AppError(4, `no running server found through ${join(dataDir, "serve.pid")}; pass --binary PATH to replace a binary, or --data-dir of the running server`, "not_found", 4);
      if (!ctx.flags.binary && /(^|\/)bun(\.exe)?$/.test(target)) {
        throw new AppError(2, `the server (pid ${pid}) runs from source under ${target}; there is no ancla binary to replace. Send it SIGHUP to reload the source, or pass --binary PATH`, "usage", 2);
      }
      const next = await binaryVersion(source);
      if (!next.ok) throw new AppError(2, `${source} is not a working ancla binary (${next.reason}); nothing was changed`, "usage", 2);
      const current = existsSync(target) ? await binaryVersion(target) : null;
      const previous = swapBinary(target, source);
      const from = current?.ok ? current.version : "?";
      if (!pid) return { kind: "text", text: `installed ancla ${next.version} at ${target} (was ${from}; kept as ${previous}); no server is running on ${dataDir}`, data: { binary: target, previous, version: next.version, reloaded: false } };
      const timeoutMs = Number(ctx.flags.timeout ?? 120) * 1000;
      const status = await reloadAndWait(dataDir, pid, timeoutMs).catch((e) => ({ state: "failed" as const, from: pid, message: (e as Error).message, at: "" }));
      if (status.state !== "complete") {
        restorePrevious(target);
        throw new AppError(1, `the new binary did not take over: ${status.message ?? "unknown reason"}. The server (pid ${pid}) keeps serving ancla ${from}; ${target} is the previous binary again (the new one is kept as ${target}.failed)`, "reload_failed", 1);
      }
      return {
        kind: "text",
        text: `upgraded ${target}: ancla ${from} → ${next.version}; the server moved from pid ${pid} to ${status.to} without dropping requests (previous binary: ${previous})`,
        data: { binary: target, previous, from_version: from, version: next.version, from_pid: pid, pid: status.to, reloaded: true },
      };
    },
  }),
  "service install": command({
    summary: "Install Ancla as a systemd service (user ancla, data in /var/lib/ancla); --uninstall removes it",
    usage: "service install [serve flags]",
    options: {
      ...SERVE_OPTIONS, // every serve setting may be given; they become the unit's serve flags
      uninstall: { type: "boolean", description: "stop and remove the unit (the data dir and the user stay)" },
      print: { type: "boolean", description: "print the unit and change nothing" },
      user: { type: "string", value: "NAME", description: `the system user to run as (default ${DEFAULT_USER})` },
      binary: { type: "string", value: "PATH", description: "the ancla binary the unit runs (default: this one)" },
    },
    run: async (ctx) => {
      const { uninstall, print, user, binary, ...rest } = ctx.flags as Record<string, string | boolean | undefined>;
      const flags: Record<string, string | true> = {};
      for (const [k, v] of Object.entries(rest)) if ((typeof v === "string" || v === true) && k in SERVE_OPTIONS) flags[k] = v;
      config(ctx, Object.fromEntries(Object.entries(flags).map(([k, v]) => [k, String(v)]))); // a bad setting fails here, not in the unit at boot
      const compiled = Bun.main.startsWith("/$bunfs/");
      const o: ServiceOptions = {
        binary: typeof binary === "string" ? resolve(ctx.cwd, binary) : compiled ? process.execPath : DEFAULT_BINARY,
        user: typeof user === "string" ? user : DEFAULT_USER,
        dataDir: typeof flags["data-dir"] === "string" ? flags["data-dir"] : DEFAULT_DATA_DIR,
        flags,
      };
      if (print === true) return { kind: "text", text: systemdUnit(o), data: { unit: systemdUnit(o), path: UNIT_PATH } };
      if (!existsSync("/run/systemd/system")) return { kind: "text", text: withoutSystemd(o), data: { installed: false, reason: "systemd is not running", instructions: withoutSystemd(o) } };
      if (process.getuid?.() !== 0) throw new AppError(3, "installing a system service needs root: sudo ancla service install …", "forbidden", 3);
      if (uninstall === true) {
        const plan = uninstallPlan();
        await run(plan.commands[0]!).catch(() => undefined); // already stopped or never enabled
        for (const f of plan.remove) rmSync(f, { force: true });
        await run(plan.commands[1]!);
        return { kind: "text", text: `removed ${UNIT_PATH}; the data in ${o.dataDir} and the user ${o.user} were left as they are`, data: { uninstalled: true } };
      }
      if (!compiled && typeof binary !== "string") throw new AppError(2, "run this from the compiled ancla binary (./install.sh builds it), or pass --binary PATH", "usage", 2);
      // the unit's SupplementaryGroups=docker and useradd --groups docker both need the group
      if (Bun.spawnSync(["getent", "group", "docker"], { stdout: "ignore", stderr: "ignore" }).exitCode !== 0) {
        throw new AppError(1, "the docker group does not exist: install the Docker engine first (./install.sh does), then run this again; nothing was changed", "internal", 1);
      }
      const userExists = Bun.spawnSync(["id", "-u", o.user], { stdout: "ignore", stderr: "ignore" }).exitCode === 0;
      const unitChanged = !existsSync(UNIT_PATH) || readFileSync(UNIT_PATH, "utf8") !== systemdUnit(o);
      const plan = installPlan(o, userExists, unitChanged);
      await run(plan.commands[0]!);
      await run(plan.commands[1]!);
      for (const f of plan.files) {
        mkdirSync(join(f.path, ".."), { recursive: true });
        writeFileSync(f.path, f.content, { mode: f.mode });
        chmodSync(f.path, f.mode);
      }
      for (const c of plan.commands.slice(2)) await run(c);
      return {
        kind: "text",
        text: [`installed and ${unitChanged ? "(re)started" : "reloaded"} ${UNIT_PATH} (user ${o.user}, data ${o.dataDir})`, `first admin password: sudo cat ${join(o.dataDir, "initial-admin.txt")}`, "logs: journalctl -u ancla -f   reload: systemctl reload ancla   upgrade: sudo ancla upgrade ./ancla"].join("\n"),
        data: { installed: true, unit: UNIT_PATH, user: o.user, data_dir: o.dataDir },
      };
    },
  }),
};
