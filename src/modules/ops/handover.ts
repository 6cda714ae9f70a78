// Graceful reload (SIGHUP, `ancla upgrade`): the running server starts the binary now on disk as a
// child and hands it the data dir and the listeners, over an IPC channel:
//
//   child  → hello     the new binary runs and parsed its settings (a broken one never gets here)
//   parent             stops its job worker and background loops, releases the data dir lock
//   parent → go
//   child              takes the lock, backs up + migrates, binds the same ports (SO_REUSEPORT;
//                      new connections still go to the parent), adopts running apps
//   child  → ready
//   parent             steers new connections to the child, drains, closes its listeners
//   parent → released  (and tells systemd the new main pid), then exits
//   child              starts its job worker and background loops
//
// A child that exits or is not ready within the timeout is killed; the parent takes the lock back,
// restarts its worker and keeps serving. The outcome is written to <data-dir>/reload.json for
// `ancla upgrade`, which waits for it.
import { renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Subprocess } from "bun";
import type { Logger } from "../../lib/logger";
import { randomBase62 } from "../../lib/ids";
import { sdNotify } from "../../lib/sd-notify";

export const HANDOVER_ENV = "ANCLA_HANDOVER";
export const RELOAD_STATUS_FILE = "reload.json";

export type Addresses = { listen: string; router: string; https?: string };
type Message = { t: "hello" | "go" | "ready" | "released"; token: string; pid?: number };

export type ReloadStatus = { state: "reloading" | "complete" | "failed"; from: number; to?: number; message?: string; at: string };
export type ReloadOutcome = { ok: true; pid: number } | { ok: false; message: string };

/** The command that starts "the binary on disk": the compiled executable, or bun + the same script. */
export function reloadCommand(argv = process.argv, execPath = process.execPath, main = Bun.main): string[] {
  // /proc/self/exe of a replaced binary reads "… (deleted)"; the path itself now holds the new one
  const exe = execPath.replace(/ \(deleted\)$/, "");
  return main.startsWith("/$bunfs/") ? [exe, ...argv.slice(2)] : [exe, ...argv.slice(1)];
}

export function writeReloadStatus(dataDir: string, status: ReloadStatus): void {
  const file = join(dataDir, RELOAD_STATUS_FILE);
  writeFileSync(`${file}.tmp`, JSON.stringify(status) + "\n", { mode: 0o600 });
  renameSync(`${file}.tmp`, file);
}

export type HandoverParent = {
  command: string[];
  addresses: Addresses;
  /** ANCLA_MASTER_KEY was removed from this process's environment at start; the child needs it. */
  masterKey?: string;
  timeoutMs: number;
  logger: Logger;
  /** Stop the job worker and background loops, release the data dir lock. */
  yieldDataDir: () => Promise<void>;
  /** After a failed reload: take the lock back and restart what yieldDataDir stopped. */
  reclaimDataDir: () => Promise<void>;
  /** Once the child serves: steer new connections to it, drain, close the listeners. */
  drain: () => Promise<void>;
};

/** Parent side. Resolves once the child serves alone (ok) or the reload was abandoned. */
export async function handOver(h: HandoverParent): Promise<ReloadOutcome> {
  const token = randomBase62(24);
  let onMessage: (m: Message) => void = () => {};
  const env: Record<string, string> = { ...(process.env as Record<string, string>), [HANDOVER_ENV]: JSON.stringify({ token, ...h.addresses }) };
  if (h.masterKey) env.ANCLA_MASTER_KEY = h.masterKey;
  let child: Subprocess;
  try {
    child = Bun.spawn(h.command, { env, stdio: ["ignore", "inherit", "inherit"], serialization: "json", ipc: (m: Message) => onMessage(m) });
  } catch (e) {
    return { ok: false, message: `could not start ${h.command[0]}: ${(e as Error).message}` };
  }
  const next = (want: Message["t"]) =>
    new Promise<Message | string>((resolve) => {
      onMessage = (m) => m?.token === token && m.t === want && resolve(m);
      void child.exited.then((code) => resolve(`the new process exited with code ${code} before it was ready`));
    });
  const deadline = Bun.sleep(h.timeoutMs).then(() => `the new process was not ready within ${Math.round(h.timeoutMs / 1000)} s`);
  let yielded = false;
  const fail = async (message: string): Promise<ReloadOutcome> => {
    child.kill("SIGKILL");
    await child.exited;
    if (yielded) await h.reclaimDataDir();
    return { ok: false, message };
  };
  const hello = await Promise.race([next("hello"), deadline]);
  if (typeof hello === "string") return fail(hello);
  h.logger.info("reload: new process started; handing over the data dir", { pid: child.pid });
  await h.yieldDataDir();
  yielded = true;
  child.send({ t: "go", token } satisfies Message);
  const ready = await Promise.race([next("ready"), deadline]);
  if (typeof ready === "string") return fail(ready);
  h.logger.info("reload: new process serves; draining this one", { pid: child.pid });
  await h.drain();
  try {
    child.send({ t: "released", token } satisfies Message);
  } catch {
    // the child is gone already: its own exit tells the supervisor
  }
  // systemd must follow the service to the new process, or it stops the unit when this one exits
  sdNotify({ MAINPID: child.pid });
  child.unref();
  return { ok: true, pid: child.pid };
}

export type HandoverChild = {
  addresses: Addresses;
  /** Tell the parent we run; resolves when it has released the data dir. */
  waitForDataDir: () => Promise<void>;
  /** Tell the parent we serve. */
  ready: () => void;
  /** Resolves when the parent has stopped (or is gone): our turn to run jobs. */
  released: Promise<void>;
};

/** Child side: the handover the parent set up, or null for an ordinary start. Clears the variable. */
export function takeHandover(env: Record<string, string | undefined> = process.env): HandoverChild | null {
  const raw = env[HANDOVER_ENV];
  if (!raw) return null;
  delete env[HANDOVER_ENV]; // our own children (builds, the next reload) must not inherit it
  const { token, listen, router, https } = JSON.parse(raw) as { token: string } & Addresses;
  if (typeof process.send !== "function") throw new Error(`${HANDOVER_ENV} is set but no parent server is connected; unset it to start normally`);
  const send = (t: Message["t"]) => process.send!({ t, token, pid: process.pid } satisfies Message);
  const waiters = new Map<Message["t"], () => void>();
  let releaseNow: () => void = () => {};
  const released = new Promise<void>((r) => (releaseNow = r));
  process.on("message", (m: Message) => {
    if (m?.token !== token) return;
    waiters.get(m.t)?.();
    if (m.t === "released") releaseNow();
  });
  // a parent that dies mid-handover released the lock with its exit, and cannot tell us
  process.once("disconnect", () => {
    for (const wake of waiters.values()) wake();
    releaseNow();
  });
  void released.then(() => process.disconnect?.());
  return {
    addresses: { listen, router, ...(https ? { https } : {}) },
    waitForDataDir: () =>
      new Promise<void>((resolve) => {
        waiters.set("go", resolve);
        send("hello");
      }),
    ready: () => send("ready"),
    released,
  };
}
