// Applications (reference family): services of a project's default environment, or any service
// when addressed by id. The rules live in the services module; this resolves who and where.
import { NotFound, Unprocessable } from "../../errors";
import { readTx } from "../../db/client";
import type { Deps } from "../../deps";
import type { Actor } from "../auth/service";
import { applicationAccess } from "./access";
import { defaultEnvAccess } from "../envs/access";
import { projectAccessById } from "../projects/access";
import { findDefaultEnv } from "../envs/repo";
import type { z } from "zod";
import * as services from "../services/service";
import type { CreateServiceInput, PatchServiceInput, ScaleInput } from "../services/model";

export function createApplication(deps: Deps, actor: Actor | null, input: CreateServiceInput & { project_id: string }) {
  const { project_id, ...fields } = input;
  const access = projectAccessById(deps, actor, project_id);
  const env = findDefaultEnv(deps.db, access.project.id);
  if (!env) throw new NotFound("Environment");
  return services.createService(deps, { ...access, env }, fields);
}

export const createInProject = (deps: Deps, actor: Actor | null, org: string, project: string, input: CreateServiceInput) =>
  services.createService(deps, defaultEnvAccess(deps, actor, org, project), input);

export const listApplications = (deps: Deps, actor: Actor | null, org: string, project: string) =>
  services.listSummaries(deps, defaultEnvAccess(deps, actor, org, project).env.id);

// the access checks and the cache check in one read transaction (see readTx)
export const listApplicationsResponse = (deps: Deps, actor: Actor | null, org: string, project: string) =>
  readTx(deps.sqlite, () => services.summariesResponse(deps, defaultEnvAccess(deps, actor, org, project).env.id));

export const getApplication = (deps: Deps, actor: Actor | null, ref: string) => services.getService(deps, applicationAccess(deps, actor, ref));

export const patchApplication = (deps: Deps, actor: Actor | null, ref: string, input: PatchServiceInput) =>
  services.patchService(deps, applicationAccess(deps, actor, ref), input);

export const deleteApplication = (deps: Deps, actor: Actor | null, ref: string) => services.deleteService(deps, applicationAccess(deps, actor, ref));

export const scaleApplication = (deps: Deps, actor: Actor | null, ref: string, input: ScaleInput) =>
  services.scaleService(deps, applicationAccess(deps, actor, ref), input);

/** Validates a body inside a handler (for routes whose body shape depends on the path), worded like route validation. */
export function parseBody<S extends z.ZodType>(schema: S, body: unknown): z.infer<S> {
  const result = schema.safeParse(body ?? {});
  if (result.success) return result.data;
  const errors = result.error.issues.map((i) => ({ path: i.path.join(".") || "body", message: i.message }));
  throw new Unprocessable(`${errors[0]!.path}: ${errors[0]!.message}`, errors);
}
