// What the services module asks of the modules above it, answered by them through
// modules/wiring.ts: its variables when a service is deleted (config-vars), which process types a
// scale may name and making stored replica counts real (deployments), and the runtime facts a
// service's views show — replica states (deployments) and the latest image, release and
// deployment (pipeline).
import type { Db } from "../../db/client";
import type { Deps } from "../../deps";
import { hookSlot } from "../../lib/hook-slot";
import type { ServiceAccess } from "./access";
import type { ServiceRow } from "./repo";
import type { ServiceRef, TargetEnv } from "../../targets/target";
import type { LatestActivity, LatestVersions, ReplicaView } from "./model";

export type ServiceHooks = {
  /** Before the service's row goes: rows that point at it without a foreign key. */
  deleting: (db: Db, serviceId: string) => void;
  /**
   * The process types a scale may name (the latest and the serving release's, and those the
   * service stores) with the latest release's version; null before the first release.
   */
  processTypes: (deps: Deps, service: ServiceRow) => { types: Set<string>; version: number } | null;
  /** The service row in `access` already stores new counts: let what runs follow (when anything runs). */
  scaled: (deps: Deps, access: ServiceAccess) => void;
  /** The serving replicas as last observed. */
  replicas: (deps: Deps, serviceId: string) => ReplicaView[];
  /** Latest image, release and deployment of one service (detail views). */
  latest: (deps: Deps, serviceId: string) => LatestActivity;
  /** Latest versions for many services at once, keyed by service id (list views: one query per table). */
  latestVersions: (deps: Deps, serviceIds: string[]) => Map<string, LatestVersions>;
  /** The service was deleted with delete_volumes: remove its volumes' data too. */
  volumesRemoved: (deps: Deps, env: TargetEnv, ref: ServiceRef, names: string[]) => void;
};

export const serviceHooks = hookSlot<ServiceHooks>("service");
