// What a replica of a release needs besides the release itself: its config opened (secrets
// decrypted for the replica's environment only), and the plan for a replica started in place of a
// dead one. Shared by rollouts (runner.ts) and replacements (replace.ts), so both start the same.
import type { Deps } from "../../deps";
import type { ReplicaRecord } from "../../db/schema";
import type { ReplicaPlan } from "../../targets/target";
import { findOrg } from "../orgs/repo";
import { findProjectById } from "../projects/repo";
import { findEnvById } from "../envs/repo";
import type { ServiceRow } from "../services/repo";
import type { ReleaseRow } from "../releases/repo";
import { volumeMountsOf } from "../services/volumes";

export function openConfig(deps: Deps, config: { name: string; value: string; secret: boolean }[]): { vars: Record<string, string>; secretValues: string[] } {
  const vars: Record<string, string> = {};
  const secretValues: string[] = [];
  for (const v of config) {
    const value = v.secret ? deps.secrets.open(v.value) : v.value;
    vars[v.name] = value;
    if (v.secret) secretValues.push(value);
  }
  return { vars, secretValues };
}

/**
 * Another replica in `record`'s place: same release, process, replica number, pod class and
 * deployment (cleanup by deployment keeps working); `attempt` tells it apart from the one it replaces.
 */
export function replacementPlan(deps: Deps, service: ServiceRow, release: ReleaseRow, record: ReplicaRecord, attempt: number): ReplicaPlan | null {
  const env = findEnvById(deps.db, service.envId);
  const project = env && findProjectById(deps.db, env.projectId);
  const org = project && findOrg(deps.db, project.orgId);
  if (!env || !project || !org) return null;
  return {
    org: org.slug,
    project: project.slug,
    env: env.slug,
    service: service.slug,
    serviceId: service.id,
    projectId: project.id,
    releaseId: release.id,
    releaseVersion: release.version,
    deploymentId: record.deploymentId,
    image: release.imageRef,
    processes: release.processes,
    vars: openConfig(deps, release.config).vars,
    port: release.port,
    privileged: service.privileged,
    volumes: volumeMountsOf(deps.db, service.id),
    process: record.process,
    replica: record.replica,
    podClass: record.podClass,
    attempt,
  };
}
