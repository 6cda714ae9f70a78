// Volume archives pass through a file in the data dir on their way in and out of Docker. While
// Docker reads an archive into a container or writes one out of it, it holds that container's lock,
// and every image removal on the engine waits for it (retention, deletes, builds' clean-up — every
// tenant's). Streamed straight between Docker and a client, an archive sent or read at a byte a
// second held that lock for as long as the client liked. Through a spool file Docker moves the
// archive at disk speed; the client sends or reads it at its own pace on the file's side.
import { mkdirSync, readdirSync, rmSync, statSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";
import { AppError } from "../../errors";

// a spool file left by a crash or a kill is removed by the next spool made after this long
const STALE_MS = 24 * 3600_000;
const READ_CHUNK = 256 * 1024;
const WAIT_MS = 20;

// archives spooled at once per server: each may take a volume's size on the data dir's disk
export const MAX_SPOOLS = 4;
const live = new Map<string, number>(); // data dir → spool files not removed yet

export type Spool = { path: string; /** removes the file and frees its place (once) */ remove: () => void };

/** A place for one archive's spool file (`kind`: restore, backup), or 429 while MAX_SPOOLS are in use; the caller creates the file (createSpoolFile) and removes it. */
export function spoolPath(dataDir: string, kind: "restore" | "backup"): Spool {
  const count = live.get(dataDir) ?? 0;
  if (count >= MAX_SPOOLS) throw new AppError(429, `The server is already copying ${MAX_SPOOLS} volume archives (backups and restores); try again when one has ended. Nothing was changed.`, "too_many_requests", 1);
  const dir = join(dataDir, "spool");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    try {
      if (Date.now() - statSync(p).mtimeMs > STALE_MS) rmSync(p, { force: true });
    } catch {} // another request removed it meanwhile
  }
  const path = join(dir, `${kind}-${crypto.randomUUID()}`);
  live.set(dataDir, count + 1);
  let removed = false;
  return {
    path,
    remove: () => {
      if (removed) return;
      removed = true;
      rmSync(path, { force: true });
      const left = (live.get(dataDir) ?? 1) - 1;
      if (left > 0) live.set(dataDir, left);
      else live.delete(dataDir);
    },
  };
}

/** A spool file of its own, created exclusively (0600), or 507 naming `what` when the disk refuses it (its place is freed again). */
export async function createSpoolFile(dataDir: string, kind: "restore" | "backup", what: string): Promise<{ spool: Spool; file: FileHandle }> {
  const spool = spoolPath(dataDir, kind);
  try {
    return { spool, file: await open(spool.path, "wx", 0o600) };
  } catch (e) {
    spool.remove();
    throw new AppError(507, `The server could not make room for ${what} (${(e as Error).message}). Nothing was changed.`, "insufficient_storage", 1);
  }
}

/**
 * The file's bytes as a stream that follows it while `written` is pending (another writer appends
 * to it), ends when `written` has settled and everything was read (with its error, if it failed),
 * and removes the file when it ends or the reader cancels — also while a read or the file's
 * opening is under way (the handle is closed once, never left to the garbage collector).
 */
export function followFile(spool: Spool, written: Promise<unknown>): ReadableStream<Uint8Array> {
  let finished = false;
  let failure: unknown = null;
  void written.then(
    () => (finished = true),
    (e) => ((failure = e), (finished = true)),
  );
  let opened: Promise<FileHandle> | null = null;
  let ended = false;
  let offset = 0;
  const end = async () => {
    if (ended) return;
    ended = true;
    const file = opened && (await opened.catch(() => null));
    await file?.close().catch(() => {});
    spool.remove(); // a writer still busy writes on into the unlinked file
  };
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      try {
        const file = await (opened ??= open(spool.path, "r"));
        while (!ended) {
          const wasFinished = finished;
          const buf = Buffer.allocUnsafe(READ_CHUNK);
          const { bytesRead } = await file.read(buf, 0, READ_CHUNK, offset);
          if (ended) return;
          if (bytesRead > 0) {
            offset += bytesRead;
            c.enqueue(new Uint8Array(buf.buffer, buf.byteOffset, bytesRead));
            return;
          }
          if (wasFinished) {
            await end();
            if (failure) c.error(failure);
            else c.close();
            return;
          }
          await Bun.sleep(WAIT_MS);
        }
      } catch (e) {
        if (ended) return; // cancelled meanwhile: the handle was closed under the read
        await end();
        c.error(e);
      }
    },
    cancel: end,
  });
}
