// Pushing a release's image to an environment's registry, for real: Debian's docker-registry
// (the CNCF distribution registry) on a loopback port with htpasswd auth, the real Docker engine
// pushing. The digest reference comes back, a second push of the same image gives the same digest
// (what makes a promotion to a cluster run the very same image), and the registry check tells a
// good login from a wrong password and from a registry that wants credentials.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { ensureBaseImage, requireDocker, RUN_ID } from "../support/docker";
import { checkRegistry, pushImage } from "../../src/targets/docker/push";
import type { DockerClient } from "../../src/targets/docker/client";
import { rejectionOf } from "../support/settle";

setDefaultTimeout(300_000);

let docker: DockerClient;
let registry: Subprocess;
let dir: string;
let host: string;
let LOCAL = ""; // the image id, as a release records it
const NAME = { path: `ancla/push-${RUN_ID}`, tag: "r1" };
const PASSWORD = "push-pass-" + RUN_ID;

async function freePort(): Promise<number> {
  const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response("") });
  const port = s.port!;
  s.stop(true);
  return port;
}

beforeAll(async () => {
  docker = await requireDocker();
  LOCAL = (await docker.getImage(await ensureBaseImage()).inspect()).Id;
  dir = mkdtempSync(join(tmpdir(), "ancla-registry-"));
  writeFileSync(join(dir, "htpasswd"), `ci:${await Bun.password.hash(PASSWORD, { algorithm: "bcrypt", cost: 4 })}\n`);
  const port = await freePort();
  host = `127.0.0.1:${port}`;
  writeFileSync(
    join(dir, "config.yml"),
    `version: 0.1
log: { level: error }
storage: { filesystem: { rootdirectory: ${join(dir, "data")} } }
http: { addr: ${host} }
auth: { htpasswd: { realm: ancla-test, path: ${join(dir, "htpasswd")} } }
`,
  );
  registry = Bun.spawn(["docker-registry", "serve", join(dir, "config.yml")], { stdout: "ignore", stderr: "pipe" });
  for (let i = 0; ; i++) {
    const up = await fetch(`http://${host}/v2/`).then((r) => r.status === 401, () => false);
    if (up) break;
    if (i > 100) throw new Error("docker-registry did not start");
    await Bun.sleep(100);
  }
});

afterAll(async () => {
  registry?.kill();
  await registry?.exited;
  for (const tag of ["r1", "r2"]) await docker?.getImage(`${host}/ancla/push-${RUN_ID}:${tag}`).remove().catch(() => {});
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const auth = () => ({ url: host, username: "ci", password: PASSWORD });

describe("pushing to the environment's registry", () => {
  test("the image (by id) lands in the registry under the service's name; the digest reference comes back; the same image under another release tag has the same digest", async () => {
    const lines: string[] = [];
    const ref = await pushImage(docker, LOCAL, auth(), NAME, (l) => lines.push(l));
    expect(ref).toMatch(new RegExp(`^${host.replace(/\./g, "\\.")}/ancla/push-${RUN_ID}@sha256:[0-9a-f]{64}$`));
    expect(lines[0]).toBe(`Pushing ${host}/ancla/push-${RUN_ID}:r1`);
    expect(lines.at(-1)).toBe(`Pushed ${ref}`);
    expect(lines.join("\n")).not.toContain(PASSWORD);
    // the registry itself serves that manifest under the tag, with that digest
    const res = await fetch(`http://${host}/v2/ancla/push-${RUN_ID}/manifests/r1`, {
      method: "HEAD",
      headers: { authorization: `Basic ${btoa(`ci:${PASSWORD}`)}`, accept: "application/vnd.docker.distribution.manifest.v2+json" },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("docker-content-digest")).toBe(ref.split("@")[1]!);
    // a promotion pushes the same image for another release: same digest
    expect(await pushImage(docker, LOCAL, auth(), { ...NAME, tag: "r2" }, () => {})).toBe(ref);
    // on this engine only the newest push keeps its registry tag (older ones would pin images retention removes)
    const tags = (await docker.getImage(LOCAL).inspect()).RepoTags ?? [];
    expect(tags).toContain(`${host}/ancla/push-${RUN_ID}:r2`);
    expect(tags).not.toContain(`${host}/ancla/push-${RUN_ID}:r1`);
  });

  test("a wrong password fails the push and the check with the registry's reason, never the password", async () => {
    const wrong = { url: host, username: "ci", password: "not-the-password" };
    const err = (await pushImage(docker, LOCAL, wrong, NAME, () => {}).catch((e) => e)) as Error;
    expect(err).toBeInstanceOf(Error);
    expect(err.message).toMatch(/unauthorized|authentication required|no basic auth/i);
    await rejectionOf(checkRegistry(docker, wrong));
    expect(await checkRegistry(docker, auth())).toBe(`logged in to ${host} as ci`);
  });

  test("without credentials the check says the registry wants them", async () => {
    expect((await rejectionOf(checkRegistry(docker, { url: host, username: null, password: null }))).message).toContain(`${host} requires credentials`);
  });
});
