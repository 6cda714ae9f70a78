// Docker calls for builds (legacy builder; progress JSON parsed here, never by dockerode's
// BuildKit path), tagging, inspection and removal of the platform's own images.
import type { Readable } from "node:stream";
import { statusOf, type DockerClient } from "./client";
import { isServiceImage, MANAGED_LABEL, type ServiceNames } from "../../lib/image-names";
import { parseBuildLine, type BuildEvent } from "./build-progress";
import { withInjectedDockerfile } from "./context-rewrite";
import { INJECTED_DOCKERFILE, labelledDockerfile } from "./dockerfile-labels";

export type BuildRequest = {
  context: NodeJS.ReadableStream | Readable;
  dockerfile: string;
  tag: string;
  labels: Record<string, string>;
  buildargs: Record<string, string>;
  signal?: AbortSignal;
  onEvent: (e: BuildEvent) => void;
};

export class BuildFailed extends Error {}

/** Runs one build; resolves with the image id, rejects with BuildFailed carrying the daemon's message. */
export async function dockerBuild(docker: DockerClient, req: BuildRequest): Promise<string> {
  // a context stream that fails (bad gzip, disk error) must fail the build, not stall the upload
  const contextFailed = new Promise<never>((_, reject) => (req.context as NodeJS.EventEmitter).once("error", (e: Error) => reject(new BuildFailed(`The build context could not be read: ${e.message}`))));
  contextFailed.catch(() => {});
  const stream = (await Promise.race([contextFailed, docker.buildImage(req.context as never, {
    t: req.tag,
    dockerfile: req.dockerfile,
    labels: req.labels,
    buildargs: req.buildargs,
    rm: true,
    forcerm: true, // remove intermediate containers even when a step fails
    version: "1", // legacy builder
    abortSignal: req.signal,
  } as never)])) as unknown as NodeJS.ReadableStream;
  let imageId: string | null = null;
  let failure: string | null = null;
  let pending = "";
  const handle = (line: string) => {
    for (const e of parseBuildLine(line)) {
      if (e.kind === "built" && (!imageId || e.id.startsWith("sha256:"))) imageId = e.id; // aux.ID (full) beats "Successfully built" (short)
      if (e.kind === "error") failure = e.message;
      req.onEvent(e);
    }
  };
  await new Promise<void>((resolve, reject) => {
    stream.on("data", (chunk: Buffer | string) => {
      pending += chunk.toString();
      const lines = pending.split("\n");
      pending = lines.pop() ?? "";
      for (const l of lines) if (l.trim()) handle(l);
    });
    stream.on("end", () => {
      if (pending.trim()) handle(pending);
      resolve();
    });
    stream.on("error", reject);
    contextFailed.catch(reject);
    req.signal?.addEventListener("abort", () => reject(req.signal!.reason ?? new Error("aborted")), { once: true });
  });
  if (failure) throw new BuildFailed(failure);
  if (!imageId) throw new BuildFailed("The build ended without producing an image.");
  return imageId;
}

/**
 * Docker's legacy builder fails when an image its layer cache picked is removed while the build
 * runs (the retention or delete of another service whose build left the same layers, at that
 * moment): "failed to get digest sha256:…: open /var/lib/docker/…: no such file or directory".
 * Nothing is wrong with the build; it goes again once, and the second run finds the cache as it
 * is now. Any other failure, and a second such one, ends the build. The whole message must be
 * the engine's: a failing RUN step's message quotes its command, which the user wrote.
 */
export const lostCachedImage = (message: string): boolean =>
  /^(failed to get digest sha256:[0-9a-f]{64}: open \S+: no such file or directory|No such image: sha256:[0-9a-f]{64})$/.test(message.trim());

export async function retryingLostCache(attempt: () => Promise<string>, onRetry: (message: string) => void): Promise<string> {
  try {
    return await attempt();
  } catch (e) {
    if (!(e instanceof BuildFailed) || !lostCachedImage(e.message)) throw e;
    onRetry(e.message);
    return attempt();
  }
}

export type LabelledBuild = Omit<BuildRequest, "context" | "dockerfile" | "labels"> & {
  context: Readable;
  /** the user's Dockerfile text */
  dockerfile: string;
  labels: Record<string, string>;
  /** at most this many context entries (git checkouts are bounded here too) */
  maxEntries: number;
};

/**
 * A build whose labels go in as one LABEL line of an injected Dockerfile (one build step, not
 * six): the context is streamed through with that Dockerfile and a matching .dockerignore added.
 */
export function buildWithLabels(docker: DockerClient, req: LabelledBuild): Promise<string> {
  const { context, dockerfile, labels, maxEntries, ...rest } = req;
  return dockerBuild(docker, {
    ...rest,
    context: withInjectedDockerfile(context, labelledDockerfile(dockerfile, labels), { maxEntries }),
    dockerfile: INJECTED_DOCKERFILE,
    labels: {},
  });
}

export type ImageFacts = { id: string; size: number; metadata: Record<string, unknown> };

export async function inspectImage(docker: DockerClient, ref: string): Promise<ImageFacts | null> {
  try {
    const i = await docker.getImage(ref).inspect();
    return {
      id: i.Id,
      size: i.Size,
      metadata: {
        cmd: i.Config?.Cmd ?? null,
        entrypoint: i.Config?.Entrypoint ?? null,
        working_dir: i.Config?.WorkingDir || null,
        exposed_ports: Object.keys(i.Config?.ExposedPorts ?? {}),
        user: i.Config?.User || null,
        architecture: i.Architecture,
        os: i.Os,
        created: i.Created,
      },
    };
  } catch (e) {
    if (statusOf(e) === 404) return null;
    throw e;
  }
}

/** `docker tag <source> <repo>:<tag>` */
export async function tagImage(docker: DockerClient, source: string, repo: string, tag: string): Promise<void> {
  await docker.getImage(source).tag({ repo, tag });
}

/**
 * Removes `<repo>:<tag>` only when it is the platform's image for this service, or a pre-built
 * image's extra tag in our repository (then only the tag goes; the image stays). The service's
 * image is the one whose id is `imageId` (what its image row recorded: it stays right after a
 * slug rename) or, without an id, the one labelled with the service's slugs. A reference that now
 * names another service's image (a name two services shared before names had one path component
 * per slug: the other's build moved the tag) is left alone; this service's image, untagged by
 * that move, goes by id when nothing else names it. Never forced: an image still used by a
 * container stays. Returns whether this service's image is gone.
 */
export async function removeServiceImage(docker: DockerClient, ref: string, service: ServiceNames, imageId?: string | null): Promise<boolean> {
  let info;
  try {
    info = await docker.getImage(ref).inspect();
  } catch {
    return imageId ? removeUntaggedServiceImage(docker, imageId, service) : true; // the name is gone
  }
  if (imageId && info.Id !== imageId) return removeUntaggedServiceImage(docker, imageId, service);
  const labels = info.Config?.Labels;
  const managed = labels?.[MANAGED_LABEL] === "true";
  const ours = (!!imageId && managed) || isServiceImage(labels, service);
  if (!ours && (managed || !(info.RepoTags ?? []).includes(ref))) return false; // another service's build
  try {
    // by reference: with other tags present this only untags; pre-built images keep their own tags
    await docker.getImage(ref).remove({ noprune: !ours });
    return true;
  } catch {
    return false;
  }
}

/**
 * Our reference no longer names the image `imageId`: remove that image when it is the service's
 * build (labels) and nothing else names it. A pre-built image was only tagged: the tag is gone.
 */
async function removeUntaggedServiceImage(docker: DockerClient, imageId: string, service: ServiceNames): Promise<boolean> {
  let info;
  try {
    info = await docker.getImage(imageId).inspect();
  } catch {
    return true;
  }
  if (!isServiceImage(info.Config?.Labels, service)) return true;
  if ((info.RepoTags ?? []).some((t) => t !== "<none>:<none>")) return false;
  try {
    await docker.getImage(imageId).remove();
    return true;
  } catch {
    return false;
  }
}

/** Force-removes containers by id (intermediate build containers); missing ones are fine. */
export async function removeContainers(docker: DockerClient, ids: string[]): Promise<number> {
  let removed = 0;
  for (const id of ids) {
    try {
      await docker.getContainer(id).remove({ force: true });
      removed++;
    } catch (e) {
      const status = statusOf(e);
      if (status === 404) continue;
      // 409: the engine is already removing it (a legacy build whose client went away removes
      // its intermediate container itself): done once the engine no longer knows it
      if (status !== 409 || !(await goneWithin(docker, id, REMOVAL_WAIT_MS))) throw e;
      removed++;
    }
  }
  return removed;
}

/** How long a removal the engine already has in progress may take before it counts as failed. */
const REMOVAL_WAIT_MS = 30_000;

async function goneWithin(docker: DockerClient, id: string, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const known = await docker.getContainer(id).inspect().then(
      () => true,
      (e) => statusOf(e) !== 404,
    );
    if (!known) return true;
    await Bun.sleep(100);
  }
  return false;
}
