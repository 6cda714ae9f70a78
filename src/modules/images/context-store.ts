// Uploaded build contexts on disk: <data-dir>/contexts/<service-id>/<image-id>.tar. Streamed to a
// file (never held in memory) while tar-safety checks it, before any row or Docker call, and the
// newest upload per service is kept so a later pipeline deploy can rebuild from it.
import { existsSync, linkSync, copyFileSync, mkdirSync, readdirSync, renameSync, rmSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import type { Deps } from "../../deps";
import { AppError, PayloadTooLarge } from "../../errors";
import { newId } from "../../lib/ids";
import { inspectContext, UnsafeContext } from "../../lib/tar-safety";

export type StoredContext = { path: string; files: Record<string, string> };

export const contextDir = (deps: Deps, serviceId: string) => join(deps.config.dataDir, "contexts", serviceId);
export const contextFile = (deps: Deps, serviceId: string, imageId: string) => join(contextDir(deps, serviceId), `${imageId}.tar`);

/**
 * Streams the request body to disk and through the tar checks at the same time, so an upload is
 * refused (413 over a limit, 422 unsafe, 400 not a tar) as soon as the offending bytes arrive —
 * never after storing gigabytes — and nothing but the current chunk is held in memory.
 */
export async function receiveContext(
  deps: Deps,
  serviceId: string,
  body: ReadableStream<Uint8Array>,
  capture: string[],
): Promise<StoredContext> {
  const dir = contextDir(deps, serviceId);
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const path = join(dir, `incoming-${newId()}.tar`);
  const limit = deps.config.maxContextSize;
  const fh = await open(path, "w", 0o600);
  let receiving: unknown = null; // a failure of the body itself wins over what the tar reader makes of it
  async function* received() {
    let size = 0;
    try {
      for await (const chunk of body as unknown as AsyncIterable<Uint8Array>) {
        size += chunk.byteLength;
        if (size > limit) throw new PayloadTooLarge(`The build context is larger than the limit of ${limit} bytes (--max-context-size).`);
        await fh.write(chunk);
        yield chunk;
      }
    } catch (e) {
      receiving = e;
      throw e;
    }
  }
  try {
    const inspected = await inspectContext(received(), { limit, maxEntries: deps.config.maxContextEntries, capture });
    await fh.close();
    return { path, files: inspected.files };
  } catch (e) {
    // decided before the file closes: a write cut short by the close must not replace the reason
    const cause = receiving ?? e;
    await fh.close().catch(() => {});
    rmSync(path, { force: true });
    if (cause instanceof UnsafeContext) throw new AppError(cause.status, cause.message, "unsafe_context", 2);
    throw cause;
  }
}

/** Moves an accepted upload to its image's name. */
export function adoptContext(deps: Deps, serviceId: string, incoming: string, imageId: string): string {
  const target = contextFile(deps, serviceId, imageId);
  renameSync(incoming, target);
  return target;
}

/** A new image's own copy (hard link when possible) of the service's newest uploaded context. */
export function reuseContext(deps: Deps, serviceId: string, fromImageId: string, imageId: string): string | null {
  const source = contextFile(deps, serviceId, fromImageId);
  if (!existsSync(source)) return null;
  const target = contextFile(deps, serviceId, imageId);
  try {
    linkSync(source, target);
  } catch {
    copyFileSync(source, target);
  }
  return target;
}

/** Deletes context files except `keep` (image ids): the newest upload and those still to build. */
export function pruneContexts(deps: Deps, serviceId: string, keep: Set<string>): void {
  const dir = contextDir(deps, serviceId);
  if (!existsSync(dir)) return;
  for (const name of readdirSync(dir)) {
    if (name.startsWith("incoming-")) continue; // an upload being received right now
    const id = name.replace(/\.tar$/, "");
    if (!keep.has(id)) rmSync(join(dir, name), { force: true });
  }
}
