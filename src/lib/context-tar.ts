// A directory → build context tar stream, honouring .dockerignore with Docker's own semantics.
// @balena/dockerignore is the JS port of Docker's pattern matcher (`**`, `!` exceptions, leading
// `/`), the same one dockerode uses; the `ignore` package follows .gitignore rules instead, which
// differ (e.g. unanchored names match at any depth there, only at the root in Docker).
// Used by `ancla images build`, `ancla deploy` and the server's git builds.
import { createWriteStream, existsSync, lstatSync, readFileSync, realpathSync } from "node:fs";
import { isAbsolute, relative, sep } from "node:path";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import dockerIgnore from "@balena/dockerignore";
import * as tarFs from "tar-fs";
import type { Pack } from "tar-stream";

export type ContextOptions = { dockerfile?: string };

/** Ignore predicate for paths relative to the context root (`a/b.txt`). */
export function dockerignoreMatcher(dir: string, opts: ContextOptions = {}): { ignores: (rel: string) => boolean; prunesDirs: boolean } {
  const file = `${dir}/.dockerignore`;
  if (!existsSync(file)) return { ignores: () => false, prunesDirs: true };
  // a symlinked .dockerignore is read only when it stays inside the context (the server packs git checkouts)
  const rel = relative(realpathSync(dir), realpathSync(file));
  if (rel === ".." || rel.startsWith(".." + sep) || isAbsolute(rel)) throw new Error("'.dockerignore' is a symbolic link to a file outside the build context; refused.");
  const text = readFileSync(file, "utf8");
  const ig = dockerIgnore({ ignorecase: false }).add(text);
  // Docker always sends the Dockerfile and .dockerignore, even when a pattern matches them
  const keep = new Set([".dockerignore", (opts.dockerfile ?? "Dockerfile").replace(/^\.\//, "")]);
  // with `!` exceptions a matched directory may still hold kept files: walk it instead of pruning
  const prunesDirs = !text.split(/\r?\n/).some((l) => l.trim().startsWith("!"));
  return { ignores: (rel) => !keep.has(rel) && ig.ignores(rel), prunesDirs };
}

/** Uncompressed tar of `dir` without the ignored paths; symlinks are packed as links, never followed. */
export function contextStream(dir: string, opts: ContextOptions = {}): Pack {
  const { ignores, prunesDirs } = dockerignoreMatcher(dir, opts);
  return tarFs.pack(dir, {
    ignore: (abs: string) => {
      const rel = relative(dir, abs).split(sep).join("/");
      if (rel === "" || !ignores(rel)) return false;
      return prunesDirs || !lstatSync(abs).isDirectory();
    },
    map: (h) => ({ ...h, uid: 0, gid: 0 }), // no host user ids in the context
    dereference: false, // lstat: a link to /etc stays a link, its target is never read
  } as tarFs.PackOptions);
}

/** Writes the gzip'd context to `file`; resolves with its size in bytes. */
export async function writeContextFile(dir: string, file: string, opts: ContextOptions = {}): Promise<number> {
  const out = createWriteStream(file, { mode: 0o600 });
  await pipeline(contextStream(dir, opts), createGzip({ level: 6 }), out);
  return out.bytesWritten;
}
