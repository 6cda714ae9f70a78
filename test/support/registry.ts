// A real image registry for tests: Debian's `docker-registry` (the CNCF distribution registry
// 2.8) on a loopback random port with htpasswd (bcrypt) basic auth and storage in a temp dir.
// Docker treats 127.0.0.0/8 registries as insecure-allowed, so plain HTTP push/pull works.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./raw-http";

export const DOCKER_REGISTRY = "/usr/bin/docker-registry";

export type TestRegistry = {
  /** host:port as an image reference prefix, e.g. 127.0.0.1:40123 */
  host: string;
  url: string;
  username: string;
  password: string;
  /** The tags of a repository, read through the registry API with the credentials. */
  tags: (repo: string) => Promise<string[]>;
  /** The manifest digest (Docker-Content-Digest) of repo:tag. */
  digest: (repo: string, tag: string) => Promise<string | undefined>;
  stop: () => Promise<void>;
};

export function requireRegistry(): void {
  if (!existsSync(DOCKER_REGISTRY)) throw new Error(`${DOCKER_REGISTRY} is missing: apt-get install docker-registry (.ci/run installs it)`);
}

export async function startRegistry(opts: { username?: string; password?: string } = {}): Promise<TestRegistry> {
  requireRegistry();
  const dir = mkdtempSync(join(tmpdir(), "ancla-registry-"));
  const username = opts.username ?? "pusher";
  const password = opts.password ?? `pw-${crypto.randomUUID()}`;
  writeFileSync(join(dir, "htpasswd"), `${username}:${await Bun.password.hash(password, { algorithm: "bcrypt", cost: 5 })}\n`);
  const port = freePort();
  const config = [
    "version: 0.1",
    "log:",
    "  level: warn",
    "  accesslog:",
    "    disabled: true",
    "storage:",
    "  filesystem:",
    `    rootdirectory: ${join(dir, "data")}`,
    "  delete:",
    "    enabled: true",
    "http:",
    `  addr: 127.0.0.1:${port}`,
    `  secret: ${crypto.randomUUID()}`,
    "auth:",
    "  htpasswd:",
    "    realm: ancla-test-registry",
    `    path: ${join(dir, "htpasswd")}`,
    "",
  ].join("\n");
  writeFileSync(join(dir, "config.yml"), config);
  const proc = Bun.spawn([DOCKER_REGISTRY, "serve", join(dir, "config.yml")], { stdout: "ignore", stderr: "pipe" });
  const errText = { text: "" };
  void (async () => {
    const dec = new TextDecoder();
    for await (const chunk of proc.stderr as ReadableStream<Uint8Array>) errText.text += dec.decode(chunk);
  })();
  const url = `http://127.0.0.1:${port}`;
  const auth = `Basic ${Buffer.from(`${username}:${password}`).toString("base64")}`;
  const stop = async () => {
    proc.kill("SIGTERM");
    await Promise.race([proc.exited, Bun.sleep(5000)]);
    if (proc.exitCode === null) proc.kill("SIGKILL");
    rmSync(dir, { recursive: true, force: true });
  };
  for (let i = 0; ; i++) {
    if (proc.exitCode !== null) {
      rmSync(dir, { recursive: true, force: true });
      throw new Error(`docker-registry exited with ${proc.exitCode}: ${errText.text}`);
    }
    const res = await fetch(`${url}/v2/`).catch(() => undefined);
    if (res && res.status === 401) break;
    if (i > 200) {
      await stop();
      throw new Error(`docker-registry did not answer on ${url}: ${errText.text}`);
    }
    await Bun.sleep(50);
  }
  return {
    host: `127.0.0.1:${port}`,
    url,
    username,
    password,
    async tags(repo) {
      const res = await fetch(`${url}/v2/${repo}/tags/list`, { headers: { authorization: auth } });
      if (res.status === 404) return [];
      return ((await res.json()) as { tags?: string[] }).tags ?? [];
    },
    async digest(repo, tag) {
      const res = await fetch(`${url}/v2/${repo}/manifests/${tag}`, {
        method: "HEAD",
        headers: { authorization: auth, accept: "application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.manifest.v1+json" },
      });
      return res.ok ? (res.headers.get("docker-content-digest") ?? undefined) : undefined;
    },
    stop,
  };
}
