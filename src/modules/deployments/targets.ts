// Which target a service's replicas live on. Cleanup paths (an interrupted deployment, a deleted
// service) fall back to the local Docker engine when the environment's target is not available
// here, so nothing this server may have started there is left behind.
import type { Deps } from "../../deps";
import { targetFor, TargetUnavailable, type DeployTarget, type TargetEnv } from "../../targets/target";
import { findEnvById } from "../envs/repo";
import { findServiceById } from "../services/repo";

/** The environment's target, or the local engine when that kind is not available on this server. */
export function cleanupTarget(deps: Deps, env: TargetEnv | undefined): DeployTarget {
  if (!env) return deps.targets.local;
  try {
    return targetFor(deps, env);
  } catch (e) {
    if (e instanceof TargetUnavailable) return deps.targets.local;
    throw e;
  }
}

/** cleanupTarget of a service's environment (the local engine once the service is gone). */
export function cleanupTargetOf(deps: Deps, serviceId: string): DeployTarget {
  const service = findServiceById(deps.db, serviceId);
  return cleanupTarget(deps, service && findEnvById(deps.db, service.envId));
}
