// Per-request context shared by every module: who is calling (derived before body validation,
// so a request without credentials is answered 401 before its body is judged).
import { Elysia } from "elysia";
import type { Deps } from "../deps";
import { resolveActor } from "./auth/service";

export const withActor = (deps: Deps) =>
  new Elysia().derive({ as: "scoped" }, ({ request }) => ({ actor: resolveActor(deps, request) }));
