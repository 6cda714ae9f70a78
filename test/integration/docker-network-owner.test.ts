// A project's Docker network is `ancla-<org>-<project>`, a name two tenants can share (org "a-b"
// project "c" and org "a" project "b-c"): ensureNetwork must never hand one project another's
// network, or its containers would reach the other organization's private services by alias.
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { ensureNetwork } from "../../src/targets/docker/engine";
import { networkName, networkSpec } from "../../src/targets/docker/specs";
import { DeployFailed } from "../../src/targets/target";
import { requireDocker, RUN_ID, RUN_LABELS, testDocker } from "../support/docker";

setDefaultTimeout(60_000);

const victim = { org: `${RUN_ID}-x`, project: "shop" };
const squatter = { org: RUN_ID, project: "x-shop" };

afterAll(async () => {
  const docker = testDocker();
  for (const n of await docker.listNetworks({ filters: { label: [`dev.ancla.test-run=${RUN_ID}`] } })) await docker.getNetwork(n.Id).remove().catch(() => {});
});

test("a project never joins a network of the same name that another project (or no Ancla project) owns", async () => {
  const docker = await requireDocker();
  expect(networkName(victim.org, victim.project)).toBe(networkName(squatter.org, squatter.project));
  await ensureNetwork(docker, networkSpec(victim.org, victim.project, RUN_LABELS));
  await ensureNetwork(docker, networkSpec(victim.org, victim.project, RUN_LABELS)); // its own: fine
  const joining = ensureNetwork(docker, networkSpec(squatter.org, squatter.project, RUN_LABELS));
  await expect(joining).rejects.toBeInstanceOf(DeployFailed);
  await expect(joining).rejects.toThrow(/belongs to another project/);
  // one made outside Ancla (no labels) is not taken over either
  const outside = `ancla-${RUN_ID}-outside-net`;
  await docker.createNetwork({ Name: outside, Labels: RUN_LABELS } as never);
  await expect(ensureNetwork(docker, { ...networkSpec(RUN_ID, "outside-net", RUN_LABELS), Name: outside })).rejects.toBeInstanceOf(DeployFailed);
});
