// What creating and deleting a project asks of the modules above this one, answered by them
// through modules/wiring.ts, both inside the caller's transaction: the environment every project
// starts with (envs) and the variables scoped to the project and everything below it (config-vars).
import type { Db } from "../../db/client";
import type { Deps } from "../../deps";
import { hookSlot } from "../../lib/hook-slot";
import type { ProjectRow } from "./repo";

export type ProjectHooks = {
  /** What a new project starts with: its default environment. */
  created: (db: Db, project: ProjectRow, now: string) => void;
  /** Before the project's row goes: rows that point at it or below it without a foreign key. */
  deleting: (db: Db, projectId: string) => void;
  /**
   * Before the project is deleted, outside the transaction: notes what of it runs (its environments'
   * services) and returns what to call once its rows are gone — that removes it from its targets
   * (replicas, routes, the project's network) in the background, as deleting an environment does.
   */
  leaving: (deps: Deps, projectId: string) => () => void;
};

export const projectHooks = hookSlot<ProjectHooks>("project");
