// Docker helpers for integration tests: the engine must be there (clear failure otherwise), a
// local base image built from Debian's static busybox (no registry), and run-id labelled cleanup.
import { createDockerClient, type DockerClient } from "../../src/targets/docker/client";
import * as tar from "tar-stream";
import { readFileSync } from "node:fs";

export const BASE_IMAGE = "ancla-test/busybox";
export const TEST_RUN_LABEL = "dev.ancla.test-run";
/** Unique per test process; put it on every Docker object a test creates. */
export const RUN_ID = `t${Date.now().toString(36)}${Math.random().toString(36).slice(2, 6)}`;

let client: DockerClient | undefined;
export function testDocker(): DockerClient {
  return (client ??= createDockerClient());
}

/** Throws a clear message when no engine answers (tests must fail, never skip). */
export async function requireDocker(): Promise<DockerClient> {
  const docker = testDocker();
  try {
    await docker.ping();
  } catch (e) {
    throw new Error(
      `These tests need a running Docker engine at ${process.env.DOCKER_HOST ?? "/var/run/docker.sock"} (${(e as Error).message}). Start dockerd and run again.`,
    );
  }
  return docker;
}

async function busyboxRootfsTar(): Promise<Buffer> {
  const busybox = readFileSync("/bin/busybox");
  const applets = Bun.spawnSync(["/bin/busybox", "--list"]).stdout.toString().split("\n").filter(Boolean);
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((r) => pack.on("end", () => r()));
  for (const dir of ["bin", "tmp", "etc", "root", "var", "var/www"]) pack.entry({ name: dir, type: "directory", mode: dir === "tmp" ? 0o1777 : 0o755 });
  pack.entry({ name: "bin/busybox", mode: 0o755 }, busybox);
  for (const a of applets) if (a !== "busybox") pack.entry({ name: `bin/${a}`, type: "symlink", linkname: "busybox" });
  pack.entry({ name: "etc/passwd", mode: 0o644 }, "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n");
  pack.entry({ name: "etc/group", mode: 0o644 }, "root:x:0:\nnogroup:x:65534:\n");
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** `ancla-test/busybox`: created with `docker import` of /bin/busybox plus applet links when missing. */
export async function ensureBaseImage(): Promise<string> {
  const docker = await requireDocker();
  try {
    await docker.getImage(BASE_IMAGE).inspect();
    return BASE_IMAGE;
  } catch {}
  const rootfs = await busyboxRootfsTar();
  const stream: NodeJS.ReadableStream = await (docker.importImage as unknown as (f: unknown, o: unknown) => Promise<NodeJS.ReadableStream>)(rootfs, {
    repo: BASE_IMAGE,
    tag: "latest",
    changes: ['CMD ["/bin/sh"]', "ENV PATH=/bin"],
  });
  await new Promise<void>((resolve, reject) => docker.modem.followProgress(stream, (err: Error | null) => (err ? reject(err) : resolve())));
  await docker.getImage(BASE_IMAGE).inspect();
  return BASE_IMAGE;
}

/** A build context tar from a map of file name → content (string or {content, mode}). */
export async function contextTar(files: Record<string, string | { content: string; mode: number }>): Promise<Buffer> {
  const pack = tar.pack();
  const chunks: Buffer[] = [];
  pack.on("data", (c: unknown) => chunks.push(c as Buffer));
  const ended = new Promise<void>((r) => pack.on("end", () => r()));
  for (const [name, f] of Object.entries(files)) {
    const { content, mode } = typeof f === "string" ? { content: f, mode: 0o644 } : f;
    pack.entry({ name, mode }, content);
  }
  pack.finalize();
  await ended;
  return Buffer.concat(chunks);
}

/** What labels everything `ancla serve` creates with this run (its --container-labels setting). */
export const RUN_LABELS: Record<string, string> = { [TEST_RUN_LABEL]: RUN_ID };
/** The same for a live server, as its environment (ANCLA_CONTAINER_LABELS). */
export const RUN_LABELS_ENV = { ANCLA_CONTAINER_LABELS: `${TEST_RUN_LABEL}=${RUN_ID}` };

/**
 * Remove every container carrying all the labels, running or not, until the engine lists none: a
 * removal that answers 409 (another one in progress, e.g. the server's own removal of a run it
 * killed) or fails is tried again, since the other one can fail and leave the container behind.
 * Fails after `ms`, naming what is left, rather than leave it unnoticed.
 */
async function removeContainersLabelled(labels: string[], ms = 120_000): Promise<void> {
  const docker = testDocker();
  const deadline = Date.now() + ms;
  let lastError = "";
  for (let round = 0; ; round++) {
    const left = await docker.listContainers({ all: true, filters: { label: labels } });
    if (!left.length) return;
    if (Date.now() > deadline) throw new Error(`containers labelled ${labels.join(", ")} still there after ${ms / 1000} s: ${left.map((c) => c.Names?.[0] ?? c.Id).join(", ")}${lastError ? ` (${lastError})` : ""}`);
    if (round > 0) await Bun.sleep(Math.min(1000, 100 * round));
    await Promise.all(left.map((c) => docker.getContainer(c.Id).remove({ force: true }).catch((e: Error) => void (lastError = e.message))));
  }
}

/** Remove containers and images carrying a label (e.g. this run's service labels). */
export async function removeLabelled(label: string): Promise<void> {
  const docker = testDocker();
  await removeContainersLabelled([label]);
  const images = await docker.listImages({ filters: { label: [label] } });
  for (const i of images) await docker.getImage(i.Id).remove({ force: true }).catch(() => {});
}

/** Ids of the images an organization's builds made (its labels or its `ancla/<org>-*` names): what
 * a test counts instead of every image on the engine, which other test files change concurrently. */
export async function orgImageIds(org: string): Promise<string[]> {
  const docker = testDocker();
  const labelled = await docker.listImages({ all: true, filters: { label: [`dev.ancla.org=${org}`] } });
  const named = await docker.listImages({ all: true, filters: { reference: [`ancla/${org}-*`, `ancla/${org}/*/*/*`] } });
  return [...new Set([...labelled, ...named].map((i) => i.Id))].sort();
}

/** Remove what an organization's builds, deploys and runs left on the engine: containers (replicas
 * and one-offs), images, networks and volumes. */
export async function removeOrgResources(org: string): Promise<void> {
  await removeLabelled(`dev.ancla.org=${org}`);
  const docker = testDocker();
  for (const i of await docker.listImages({ filters: { reference: [`ancla/${org}-*`, `ancla/${org}/*/*/*`] } })) await docker.getImage(i.Id).remove({ force: true }).catch(() => {});
  // no container of the org is left to hold a network or volume
  for (const n of await docker.listNetworks({ filters: { label: [`dev.ancla.org=${org}`] } })) await docker.getNetwork(n.Id).remove().catch(() => {});
  for (const v of (await docker.listVolumes({ filters: { label: [`dev.ancla.org=${org}`] } })).Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true }).catch(() => {});
}
