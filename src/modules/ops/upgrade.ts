// `ancla upgrade <new-binary>`: check the new binary runs, swap it in atomically (the old one kept
// as ancla.previous), SIGHUP the server found through <data-dir>/serve.pid and wait for its reload
// (reload.json). When the new binary does not take over, the old process keeps serving and the
// previous binary is put back, so a later restart runs what is serving now.
import { chmodSync, copyFileSync, existsSync, linkSync, readFileSync, readlinkSync, renameSync, rmSync, statSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { AppError } from "../../errors";
import { RELOAD_STATUS_FILE, type ReloadStatus } from "./handover";

const PID_FILE = "serve.pid";

export function serverPid(dataDir: string): number | null {
  try {
    const pid = Number(readFileSync(join(dataDir, PID_FILE), "utf8").trim());
    if (!Number.isInteger(pid) || pid <= 0) return null;
    process.kill(pid, 0); // throws when no such process (EPERM: it exists, owned by another user)
    return pid;
  } catch (e) {
    return (e as { code?: string }).code === "EPERM" ? Number(readFileSync(join(dataDir, PID_FILE), "utf8").trim()) : null;
  }
}

/** The executable a process runs (/proc/<pid>/exe), without the " (deleted)" of a replaced file. */
export function executableOf(pid: number): string | null {
  try {
    return readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, "");
  } catch {
    return null;
  }
}

/** `<binary> version` → "ancla 1.2.3", or a reason it is not a working ancla binary. */
export async function binaryVersion(binary: string, timeoutMs = 20_000): Promise<{ ok: true; version: string } | { ok: false; reason: string }> {
  if (!existsSync(binary)) return { ok: false, reason: `${binary} does not exist` };
  let proc;
  try {
    proc = Bun.spawn([binary, "version"], { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ANCLA_OUTPUT: "table" } });
  } catch (e) {
    return { ok: false, reason: `${binary} cannot be run: ${(e as Error).message}` };
  }
  const timer = setTimeout(() => proc.kill("SIGKILL"), timeoutMs);
  const [out, err, code] = await Promise.all([new Response(proc.stdout).text(), new Response(proc.stderr).text(), proc.exited]);
  clearTimeout(timer);
  const m = /^ancla (\S+)/m.exec(out);
  if (code !== 0 || !m) return { ok: false, reason: `\`${basename(binary)} version\` exited ${code}${m ? "" : " without printing 'ancla <version>'"}${err.trim() ? `: ${err.trim().split("\n")[0]}` : ""}` };
  return { ok: true, version: m[1]! };
}

/**
 * Put `source` at `target` atomically (a copy renamed over it: a running process keeps its old
 * inode), keeping the current one as `<target>.previous`. Returns the previous path.
 */
export function swapBinary(target: string, source: string): string {
  const dir = dirname(target);
  const previous = `${target}.previous`;
  const staged = join(dir, `.${basename(target)}.new`);
  copyFileSync(source, staged);
  chmodSync(staged, statSync(target).mode & 0o7777 || 0o755);
  // the previous one by hard link (same inode, no copy), replaced in one rename
  const prevStaged = join(dir, `.${basename(target)}.previous`);
  rmSync(prevStaged, { force: true });
  try {
    linkSync(target, prevStaged);
  } catch {
    copyFileSync(target, prevStaged); // filesystems without hard links
  }
  renameSync(prevStaged, previous);
  renameSync(staged, target);
  return previous;
}

/** Undo swapBinary: the previous binary back at `target` (the refused one kept as `<target>.failed`). */
export function restorePrevious(target: string): void {
  const previous = `${target}.previous`;
  const failed = `${target}.failed`;
  rmSync(failed, { force: true });
  try {
    linkSync(target, failed);
  } catch {
    // best effort: the failed binary is only kept for inspection
  }
  copyFileSync(previous, join(dirname(target), `.${basename(target)}.restore`));
  chmodSync(join(dirname(target), `.${basename(target)}.restore`), statSync(previous).mode & 0o7777);
  renameSync(join(dirname(target), `.${basename(target)}.restore`), target);
}

export function readReloadStatus(dataDir: string): ReloadStatus | null {
  try {
    return JSON.parse(readFileSync(join(dataDir, RELOAD_STATUS_FILE), "utf8")) as ReloadStatus;
  } catch {
    return null;
  }
}

/** SIGHUP `pid` and wait for the reload it starts to finish (complete or failed). */
export async function reloadAndWait(dataDir: string, pid: number, timeoutMs: number): Promise<ReloadStatus> {
  const before = readReloadStatus(dataDir);
  const sent = Date.now();
  try {
    process.kill(pid, "SIGHUP");
  } catch (e) {
    throw new AppError(3, `cannot signal the server (pid ${pid}): ${(e as Error).message}; run this as the server's user or root`, "forbidden", 3);
  }
  const deadline = sent + timeoutMs;
  for (;;) {
    const s = readReloadStatus(dataDir);
    // reload.json is written by the process we signalled; a new "at" tells this reload from an earlier one
    if (s && s.from === pid && s.state !== "reloading" && s.at !== before?.at) return s;
    if (Date.now() > deadline) throw new AppError(1, `the server (pid ${pid}) did not report the reload's outcome within ${Math.round(timeoutMs / 1000)} s; see its log`, "timeout", 1);
    await Bun.sleep(100);
  }
}
