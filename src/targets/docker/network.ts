// The Docker network of a project, found in one place for every user of it (rollouts, replacement
// replicas, release phase, runs): `ancla-net-<project id>`, unique by construction, unless only a
// network under the old `ancla-<org>-<project>` name exists and carries this project's labels (made
// before the names were unique). A project whose containers run there stays there, so its services
// never end up split across two networks; another tenant whose slugs spell the same old name gets
// its own network.
import type { DockerClient } from "./client";
import * as engine from "./engine";
import { legacyNetworkName, networkSpec } from "./specs";

export type NetworkRef = { org: string; project: string; projectId: string };

/** The name of the network the project uses (created when it has none): `ancla-net-<id>`, or its old-named one. */
export async function ensureProjectNetwork(docker: DockerClient, ref: NetworkRef, labels: Record<string, string> = {}): Promise<string> {
  const current = networkSpec(ref, labels);
  if (!(await engine.findNetwork(docker, current.Name))) {
    const legacy = legacyNetworkName(ref.org, ref.project);
    const old = await engine.findNetwork(docker, legacy);
    // another project's network under the old name is simply not this project's: it gets its own
    if (old && engine.networkOwned(old, current)) return legacy;
  }
  await engine.ensureNetwork(docker, current);
  return current.Name;
}
