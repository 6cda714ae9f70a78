// What a container of a release needs besides the release itself: its config opened (secrets
// decrypted for the container env only) and this server's extra labels. Shared by rollouts
// (runner.ts) and by the replacement of a dead replica (heal.ts), so both start the same container.
import type { Deps } from "../../deps";
import type { ReplicaRecord } from "../../db/schema";
import { networkName, networkSpec, replicaSpec, type ContainerSpec, type NetworkSpec } from "../../targets/docker/specs";
import { findEnvById } from "../envs/repo";
import { findProjectById } from "../projects/repo";
import { type ServiceRow } from "../services/repo";
import { findOrg } from "../orgs/repo";
import type { ReleaseRow } from "../releases/repo";

/** Labels every container of this server carries besides dev.ancla.* (test runs tag theirs). */
export function extraLabels(): Record<string, string> {
  const run = process.env.ANCLA_TEST_RUN_ID;
  return run ? { "dev.ancla.test-run": run } : {};
}

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
 * The container spec for another container in `record`'s place: same release, process, replica
 * number, pod class and deployment label (cleanup by deployment keeps working). The name gets a
 * suffix because the container it replaces may still exist when this one is created.
 */
export function replacementSpec(
  deps: Deps,
  service: ServiceRow,
  release: ReleaseRow,
  record: ReplicaRecord,
  attempt: number,
): { container: ContainerSpec; network: NetworkSpec } | null {
  const env = findEnvById(deps.db, service.envId);
  const project = env && findProjectById(deps.db, env.projectId);
  const org = project && findOrg(deps.db, project.orgId);
  if (!env || !project || !org) return null;
  const spec = replicaSpec({
    org: org.slug,
    project: project.slug,
    env: env.slug,
    service: service.slug,
    serviceId: service.id,
    releaseId: release.id,
    releaseVersion: release.version,
    deploymentId: record.deploymentId,
    process: record.process,
    replica: record.replica,
    image: release.imageRef,
    command: release.processes[record.process] ?? null,
    vars: openConfig(deps, release.config).vars,
    port: release.port,
    podClass: record.podClass,
    privileged: service.privileged,
    network: networkName(org.slug, project.slug),
    labels: extraLabels(),
  });
  return { container: { ...spec, name: `${spec.name}-r${attempt}-${Date.now().toString(36)}` }, network: networkSpec(org.slug, project.slug, extraLabels()) };
}
