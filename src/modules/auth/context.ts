// Per-request context shared by every module: who is calling, derived in the transform phase —
// before the body is validated — so an anonymous request is answered 401 and never learns what a
// valid body looks like.
import { Elysia } from "elysia";
import type { Deps } from "../../deps";
import { requireUser, resolveActor, type Actor } from "./service";

/** Routes that never serve anonymous callers (almost all): 401 without credentials. */
export const withActor = (deps: Deps) =>
  new Elysia().derive({ as: "scoped" }, ({ request }) => ({ actor: requireUser(resolveActor(deps, request)) as Actor | null }));

/** Routes that also answer anonymous callers (session probe, dashboard pages): actor may be null. */
export const optionalActor = (deps: Deps) =>
  new Elysia().derive({ as: "scoped" }, ({ request }) => ({ actor: resolveActor(deps, request) }));
