// What deleting an environment asks of the modules above this one, answered by them through
// modules/wiring.ts: its variables and those of its services (config-vars, inside the deleting
// transaction), then the running side of its services (deployments: replicas and routes).
import type { Db } from "../../db/client";
import type { Deps } from "../../deps";
import { hookSlot } from "../../lib/hook-slot";
import type { EnvRow } from "./repo";

export type EnvHooks = {
  /** Before the environment's row goes: rows that point at it or below it without a foreign key. */
  deleting: (db: Db, envId: string) => void;
  /** After the delete committed: remove what still runs for these services of `env`, in the background. */
  servicesRemoved: (deps: Deps, env: EnvRow, serviceIds: string[]) => void;
};

export const envHooks = hookSlot<EnvHooks>("environment");
