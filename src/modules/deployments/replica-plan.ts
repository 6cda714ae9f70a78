// What a target is given to run a release: its config opened (secrets decrypted for the
// runtime's environment only), the release as a target runs it (releaseRunOf), and the plan for a
// replica started in place of a dead one. Shared by rollouts (runner.ts), replacements
// (replace.ts) and one-off runs (exec/release-run.ts), so all of them start the same.
import type { Deps } from "../../deps";
import type { ReplicaRecord } from "../../db/schema";
import type { ReleaseRun, ReplicaPlan } from "../../targets/target";
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

/** Where a release runs: the rows a service's names and ids come from (a ServiceAccess is one). */
export type ServicePlace = { org: { slug: string }; project: { slug: string; id: string }; env: { slug: string }; service: ServiceRow };

/** `release` of `place`'s service as a target runs it for `deploymentId`, with its opened config `vars` and the service's volumes. */
export function releaseRunOf(deps: Deps, place: ServicePlace, release: ReleaseRow, deploymentId: string, vars: Record<string, string>): ReleaseRun {
  const { org, project, env, service } = place;
  return {
    org: org.slug,
    project: project.slug,
    env: env.slug,
    service: service.slug,
    serviceId: service.id,
    projectId: project.id,
    releaseId: release.id,
    releaseVersion: release.version,
    deploymentId,
    image: release.imageRef,
    processes: release.processes,
    vars,
    port: release.port,
    privileged: service.privileged,
    volumes: volumeMountsOf(deps.db, service.id),
  };
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
    ...releaseRunOf(deps, { org, project, env, service }, release, record.deploymentId, openConfig(deps, release.config).vars),
    process: record.process,
    replica: record.replica,
    podClass: record.podClass,
    attempt,
  };
}
