// A project's Docker network is `ancla-<org>-<project>` and a volume `ancla-<org>-<project>-<env>-
// <service>-<name>`, names two tenants can share (org "a-b" project "c" and org "a" project "b-c"):
// ensureNetwork must never hand one project another's network (its containers would reach the other
// organization's private services by alias), and a restore must never touch another service's
// volume or the containers that use it.
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { Readable } from "node:stream";
import { ensureNetwork } from "../../src/targets/docker/engine";
import { dockerVolumes, VolumeNotOwned } from "../../src/targets/docker/volumes";
import { networkName, networkSpec } from "../../src/targets/docker/specs";
import { DeployFailed } from "../../src/targets/target";
import { BASE_IMAGE, ensureBaseImage, requireDocker, RUN_ID, RUN_LABELS, testDocker } from "../support/docker";

setDefaultTimeout(60_000);

const victim = { org: `${RUN_ID}-x`, project: "shop" };
const squatter = { org: RUN_ID, project: "x-shop" };

afterAll(async () => {
  const docker = testDocker();
  for (const c of await docker.listContainers({ all: true, filters: { label: [`dev.ancla.test-run=${RUN_ID}`] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const n of await docker.listNetworks({ filters: { label: [`dev.ancla.test-run=${RUN_ID}`] } })) await docker.getNetwork(n.Id).remove().catch(() => {});
  for (const v of (await docker.listVolumes({ filters: { label: [`dev.ancla.test-run=${RUN_ID}`] } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
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

test("restoring into a volume name another service owns is refused before its containers are touched", async () => {
  const docker = await requireDocker();
  await ensureBaseImage();
  const ref = (o: { org: string; project: string }, serviceId: string) => ({ ...o, env: "production", service: "db", serviceId });
  const vol = `ancla-${victim.org}-${victim.project}-production-db-data`;
  await docker.createVolume({ Name: vol, Labels: { ...RUN_LABELS, "dev.ancla.service-id": "victim-service" } } as never);
  // the victim's stopped container that mounts its volume
  const stopped = await docker.createContainer({ Image: BASE_IMAGE, Cmd: ["true"], Labels: RUN_LABELS, HostConfig: { Mounts: [{ Type: "volume", Source: vol, Target: "/data" }] } } as never);
  const volumes = dockerVolumes(() => docker, RUN_LABELS);
  const restoring = volumes.restore(ref(squatter, "squatter-service"), "data", BASE_IMAGE, Readable.from([Buffer.alloc(1024)]));
  await expect(restoring).rejects.toBeInstanceOf(VolumeNotOwned);
  expect((await docker.getContainer(stopped.id).inspect()).Id).toBe(stopped.id);
  await expect(volumes.backup(ref(squatter, "squatter-service"), "data", BASE_IMAGE, { idleWithinMs: 0 })).rejects.toBeInstanceOf(VolumeNotOwned);
});
