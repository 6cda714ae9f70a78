// Pushing a locally built image to an environment's registry (a cluster pulls it from there), and
// checking a registry login. The same local image pushed twice gives the same digest, so a release
// promoted from a Docker environment runs the very same image on the cluster.
import type { DockerClient } from "./client";

export type RegistryAuth = { url: string; username: string | null; password: string | null };

/** Where an image goes in a registry: `<registry>/<path>:<tag>` (the registry may carry a path prefix). */
export function remoteRef(registry: string, path: string, tag: string): { repo: string; tag: string } {
  return { repo: `${registry.replace(/\/+$/, "")}/${path.replace(/^\/+/, "")}`, tag };
}

const authConfig = (r: RegistryAuth) => (r.username ? { username: r.username, password: r.password ?? "", serveraddress: r.url.split("/")[0]! } : {});

/**
 * Tag the local image (a tag or an image id) as `<registry>/<path>:<tag>` and push it; progress
 * lines go to `log`. Resolves with the digest reference (`<registry>/<path>@sha256:…`) the cluster
 * should pull: the same image gives the same digest whatever its name.
 */
export async function pushImage(docker: DockerClient, localRef: string, registry: RegistryAuth, name: { path: string; tag: string }, log: (line: string) => void, signal?: AbortSignal): Promise<string> {
  const { repo, tag } = remoteRef(registry.url, name.path, name.tag);
  await docker.getImage(localRef).tag({ repo, tag });
  log(`Pushing ${repo}:${tag}`);
  if (signal?.aborted) throw signal.reason ?? new Error("aborted");
  const stream = (await docker.getImage(`${repo}:${tag}`).push({ tag, authconfig: authConfig(registry) } as never)) as unknown as NodeJS.ReadableStream;
  let digest: string | null = null;
  let failure: string | null = null;
  const seen = new Set<string>();
  await new Promise<void>((resolve, reject) => {
    docker.modem.followProgress(
      stream,
      (err: Error | null) => (err ? reject(err) : resolve()),
      (e: { status?: string; id?: string; error?: string; errorDetail?: { message?: string }; aux?: { Digest?: string } }) => {
        if (e.error || e.errorDetail) failure = e.errorDetail?.message ?? e.error ?? "push failed";
        if (e.aux?.Digest) digest = e.aux.Digest;
        // one line per layer and state, not every progress tick
        const line = e.id ? `${e.id}: ${e.status ?? ""}` : (e.status ?? "");
        if (line && !seen.has(line) && !e.status?.startsWith("Pushing")) {
          seen.add(line);
          log(line);
        }
      },
    );
  });
  await untagOlderPushes(docker, repo, tag);
  if (failure) throw new Error(`pushing ${repo}:${tag} failed: ${failure}`);
  if (!digest) throw new Error(`the registry did not report a digest for ${repo}:${tag}`);
  log(`Pushed ${repo}@${digest}`);
  return `${repo}@${digest}`;
}

/** Log in to the registry (with credentials) or reach its /v2/ endpoint (without); throws with the reason. */
export async function checkRegistry(docker: DockerClient, registry: RegistryAuth): Promise<string> {
  const host = registry.url.split("/")[0]!;
  if (registry.username) {
    await docker.checkAuth(authConfig(registry));
    return `logged in to ${host} as ${registry.username}`;
  }
  const loopback = /^(127\.|localhost(:|$)|\[::1\])/.test(host);
  const urls = [`https://${host}/v2/`, ...(loopback ? [`http://${host}/v2/`] : [])];
  let last = "";
  for (const url of urls) {
    try {
      const res = await fetch(url, { redirect: "manual", signal: AbortSignal.timeout(10_000) });
      await res.arrayBuffer().catch(() => {});
      if (res.status === 200) return `${host} answers without credentials`;
      if (res.status === 401) throw new Error(`${host} requires credentials: set registry_username and registry_password`);
      last = `${url} answered ${res.status}`;
    } catch (e) {
      if ((e as Error).message.includes("requires credentials")) throw e;
      last = `${url}: ${(e as Error).message}`;
    }
  }
  throw new Error(`cannot reach the registry (${last})`);
}

/**
 * Registry tags are only needed for pushing: drop this repository's older ones (a newer release was
 * pushed), unless a tag is an image's only name (removing it would delete the image). The newest
 * stays, so the image that serves keeps a name in the registry's repository on this engine too.
 */
async function untagOlderPushes(docker: DockerClient, repo: string, keepTag: string): Promise<void> {
  try {
    for (const image of await docker.listImages({ filters: { reference: [repo] } })) {
      const tags = image.RepoTags ?? [];
      for (const t of tags) {
        if (!t.startsWith(`${repo}:`) || t === `${repo}:${keepTag}` || tags.length < 2) continue;
        await docker.getImage(t).remove({ noprune: true });
        tags.splice(tags.indexOf(t), 1);
      }
    }
  } catch {
    // a leftover tag is harmless
  }
}
