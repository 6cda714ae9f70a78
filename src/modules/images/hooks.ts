// What the images module asks of the modules above it, answered through modules/wiring.ts: the
// credentials of a service's private repository for one clone (integrations: a deploy key with
// pinned host keys, or an HTTPS token).
import type { Deps } from "../../deps";
import { hookSlot } from "../../lib/hook-slot";
import type { GitRemote } from "../../lib/git-source";

export type GitAuth = {
  /** Environment for the git processes of this clone only (never argv). */
  env: Record<string, string>;
  /** A line for the build log (never the secret itself). */
  note: string;
  /** After the clone: pins host keys on success, removes key files always; a failure's message for the user, if it knows better. */
  finish: (ok: boolean, error?: string) => string | undefined;
};

export type ImageHooks = {
  /** Credentials for cloning `remote` for this service into `workDir`, or null to clone anonymously. */
  gitAuth: (deps: Deps, serviceId: string, remote: GitRemote, workDir: string) => GitAuth | null;
};

export const imageHooks = hookSlot<ImageHooks>("image");
