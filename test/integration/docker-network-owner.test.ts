// A project's Docker network is `ancla-<org>-<project>`, a name two tenants can share (org "a-b"
// project "c" and org "a" project "b-c"): ensureNetwork must never hand one project another's network
// (its containers would reach the other organization's private services by alias). Volumes were
// named that way too (`ancla-<org>-<project>-<env>-<service>-<name>`); now they are
// `ancla-vol-<service id>-<name>`, and an old-named volume is used only by the service it carries.
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { Readable } from "node:stream";
import { ensureNetwork } from "../../src/targets/docker/engine";
import { dockerVolumes, VolumeNotOwned } from "../../src/targets/docker/volumes";
import { networkName, networkSpec } from "../../src/targets/docker/specs";
import { DeployFailed } from "../../src/targets/target";
import { BASE_IMAGE, ensureBaseImage, requireDocker, RUN_ID, RUN_LABELS, testDocker } from "../support/docker";

setDefaultTimeout(300_000);

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

test("a service whose slugs run together with another's never touches that service's old-named volume; one made outside Ancla under its name is refused", async () => {
  const docker = await requireDocker();
  await ensureBaseImage();
  const ref = (o: { org: string; project: string }, serviceId: string) => ({ ...o, env: "production", service: "db", serviceId });
  // the victim's volume under the old slug name, which the squatter's slugs also spell
  const vol = `ancla-${victim.org}-${victim.project}-production-db-data`;
  expect(`ancla-${squatter.org}-${squatter.project}-production-db-data`).toBe(vol);
  await docker.createVolume({ Name: vol, Labels: { ...RUN_LABELS, "dev.ancla.service-id": `victim-service-${RUN_ID}` } } as never);
  // the victim's stopped container that mounts its volume
  const stopped = await docker.createContainer({ Image: BASE_IMAGE, Cmd: ["true"], Labels: RUN_LABELS, HostConfig: { Mounts: [{ Type: "volume", Source: vol, Target: "/data" }] } } as never);
  const volumes = dockerVolumes(() => docker, RUN_LABELS);
  const squatterId = `squatter-service-${RUN_ID}`;
  // the squatter's restore goes to its own volume: the victim's volume and container stay
  await volumes.restore(ref(squatter, squatterId), "data", BASE_IMAGE, Readable.from([Buffer.alloc(1024)]));
  expect((await docker.getContainer(stopped.id).inspect()).Id).toBe(stopped.id);
  expect((await docker.getVolume(vol).inspect()).Labels["dev.ancla.service-id"]).toBe(`victim-service-${RUN_ID}`);
  expect((await docker.getVolume(`ancla-vol-${squatterId}-data`).inspect()).Labels["dev.ancla.service-id"]).toBe(squatterId);
  expect(await volumes.source!(ref(squatter, squatterId), "data")).toBe(`ancla-vol-${squatterId}-data`);
  expect(await volumes.source!(ref(victim, `victim-service-${RUN_ID}`), "data")).toBe(vol);
  // a volume made outside Ancla under a service's name is never taken over
  const outsider = `outsider-${RUN_ID}`;
  await docker.createVolume({ Name: `ancla-vol-${outsider}-data`, Labels: RUN_LABELS } as never);
  await expect(volumes.restore(ref(squatter, outsider), "data", BASE_IMAGE, Readable.from([Buffer.alloc(1024)]))).rejects.toBeInstanceOf(VolumeNotOwned);
  await expect(volumes.backup(ref(squatter, outsider), "data", BASE_IMAGE, { idleWithinMs: 0 })).rejects.toBeInstanceOf(VolumeNotOwned);
});
