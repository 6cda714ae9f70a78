// A project's Docker network was `ancla-<org>-<project>`, a name two tenants can share (org "a-b"
// project "c" and org "a" project "b-c"); now it is `ancla-net-<project id>`, and an old-named network
// is used only by the project whose labels it carries: one project is never handed another's network
// (its containers would reach the other organization's private services by alias). Volumes were
// named that way too (`ancla-<org>-<project>-<env>-<service>-<name>`); now they are
// `ancla-vol-<service id>-<name>`, and an old-named volume is used only by the service it carries.
import { afterAll, expect, setDefaultTimeout, test } from "bun:test";
import { Readable } from "node:stream";
import { ensureProjectNetwork } from "../../src/targets/docker/network";
import { dockerVolumes, VolumeNotOwned } from "../../src/targets/docker/volumes";
import { legacyNetworkName } from "../../src/targets/docker/specs";
import { DeployFailed } from "../../src/targets/target";
import { BASE_IMAGE, ensureBaseImage, requireDocker, RUN_ID, RUN_LABELS, testDocker } from "../support/docker";
import { rejectionOf } from "../support/settle";

setDefaultTimeout(300_000);

const victim = { org: `${RUN_ID}-x`, project: "shop" };
const squatter = { org: RUN_ID, project: "x-shop" };

afterAll(async () => {
  const docker = testDocker();
  for (const c of await docker.listContainers({ all: true, filters: { label: [`dev.ancla.test-run=${RUN_ID}`] } })) await docker.getContainer(c.Id).remove({ force: true }).catch(() => {});
  for (const n of await docker.listNetworks({ filters: { label: [`dev.ancla.test-run=${RUN_ID}`] } })) await docker.getNetwork(n.Id).remove().catch(() => {});
  for (const v of (await docker.listVolumes({ filters: { label: [`dev.ancla.test-run=${RUN_ID}`] } })).Volumes ?? []) await docker.getVolume(v.Name).remove().catch(() => {});
});

test("a project never joins a network that another project (or no Ancla project) owns; its own old-named network stays in use", async () => {
  const docker = await requireDocker();
  const victimRef = { ...victim, projectId: `victim-project-${RUN_ID}` };
  const squatterRef = { ...squatter, projectId: `squatter-project-${RUN_ID}` };
  const legacy = legacyNetworkName(victim.org, victim.project);
  expect(legacyNetworkName(squatter.org, squatter.project)).toBe(legacy);
  // the victim's network as the old code made it (no project id label)
  await docker.createNetwork({ Name: legacy, Driver: "bridge", Labels: { ...RUN_LABELS, "dev.ancla.managed": "true", "dev.ancla.org": victim.org, "dev.ancla.project": victim.project } } as never);
  expect(await ensureProjectNetwork(docker, victimRef, RUN_LABELS)).toBe(legacy);
  expect(await ensureProjectNetwork(docker, victimRef, RUN_LABELS)).toBe(legacy); // and again
  // the squatter gets a network of its own; the victim's keeps its labels
  expect(await ensureProjectNetwork(docker, squatterRef, RUN_LABELS)).toBe(`ancla-net-${squatterRef.projectId}`);
  expect((await docker.getNetwork(legacy).inspect()).Labels?.["dev.ancla.org"]).toBe(victim.org);
  expect((await docker.getNetwork(`ancla-net-${squatterRef.projectId}`).inspect()).Labels?.["dev.ancla.project-id"]).toBe(squatterRef.projectId);
  // a project's own network is found by its id, also after a slug rename
  expect(await ensureProjectNetwork(docker, { ...squatterRef, project: "renamed" }, RUN_LABELS)).toBe(`ancla-net-${squatterRef.projectId}`);
  // one made outside Ancla under a project's name is not taken over, nor one carrying another project's id
  const outsider = { org: RUN_ID, project: "outside-net", projectId: `outsider-${RUN_ID}` };
  await docker.createNetwork({ Name: `ancla-net-${outsider.projectId}`, Labels: RUN_LABELS } as never);
  const joining = ensureProjectNetwork(docker, outsider, RUN_LABELS);
  expect(await rejectionOf(joining)).toBeInstanceOf(DeployFailed);
  expect((await rejectionOf(joining)).message).toMatch(/belongs to another project/);
  const forged = { ...squatterRef, projectId: `forged-${RUN_ID}` };
  await docker.createNetwork({ Name: `ancla-net-${forged.projectId}`, Labels: { ...RUN_LABELS, "dev.ancla.managed": "true", "dev.ancla.project-id": squatterRef.projectId } } as never);
  expect(await rejectionOf(ensureProjectNetwork(docker, forged, RUN_LABELS))).toBeInstanceOf(DeployFailed);
});

test("a service whose slugs run together with another's never touches that service's old-named volume; one made outside Ancla under its name is refused", async () => {
  const docker = await requireDocker();
  await ensureBaseImage();
  const ref = (o: { org: string; project: string }, serviceId: string) => ({ ...o, env: "production", service: "db", serviceId, projectId: `project-${serviceId}` });
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
  expect(await rejectionOf(volumes.restore(ref(squatter, outsider), "data", BASE_IMAGE, Readable.from([Buffer.alloc(1024)])))).toBeInstanceOf(VolumeNotOwned);
  expect(await rejectionOf(volumes.backup(ref(squatter, outsider), "data", BASE_IMAGE, { idleWithinMs: 0 }))).toBeInstanceOf(VolumeNotOwned);
});
