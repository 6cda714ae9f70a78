// Volume archives pass through a file in the data dir on their way in and out of Docker. While
// Docker reads an archive into a container or writes one out of it, it holds that container's lock,
// and every image removal on the engine waits for it (retention, deletes, builds' clean-up — every
// tenant's). Streamed straight between Docker and a client, an archive sent or read at a byte a
// second held that lock for as long as the client liked. Through a spool file Docker moves the
// archive at disk speed; the client sends or reads it at its own pace on the file's side.
import { mkdirSync, openSync, readdirSync, rmSync, statSync } from "node:fs";
import { open, type FileHandle } from "node:fs/promises";
import { join } from "node:path";

// a spool file left by a crash or a kill is removed by the next spool made after this long
const STALE_MS = 24 * 3600_000;
const READ_CHUNK = 256 * 1024;
const WAIT_MS = 20;

/** A new, empty, private file for one archive (`kind`: restore, backup); the caller removes it. */
export function spoolFile(dataDir: string, kind: "restore" | "backup"): { path: string; fd: number } {
  const dir = join(dataDir, "spool");
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    try {
      if (Date.now() - statSync(p).mtimeMs > STALE_MS) rmSync(p, { force: true });
    } catch {} // another request removed it meanwhile
  }
  const path = join(dir, `${kind}-${crypto.randomUUID()}`);
  return { path, fd: openSync(path, "wx", 0o600) };
}

/**
 * The file's bytes as a stream that follows it while `written` is pending (another writer appends
 * to it), ends when `written` has settled and everything was read (with its error, if it failed),
 * and removes the file when it ends or the reader cancels.
 */
export function followFile(path: string, written: Promise<unknown>): ReadableStream<Uint8Array> {
  let finished = false;
  let failure: unknown = null;
  void written.then(
    () => (finished = true),
    (e) => ((failure = e), (finished = true)),
  );
  let file: FileHandle | null = null;
  let offset = 0;
  const end = async () => {
    await file?.close().catch(() => {});
    file = null;
    rmSync(path, { force: true }); // a writer still busy writes on into the unlinked file
  };
  return new ReadableStream<Uint8Array>({
    async pull(c) {
      file ??= await open(path, "r");
      for (;;) {
        const wasFinished = finished;
        const buf = Buffer.allocUnsafe(READ_CHUNK);
        const { bytesRead } = await file.read(buf, 0, READ_CHUNK, offset);
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
    },
    cancel: end,
  });
}
