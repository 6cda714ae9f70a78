// Private repositories over SSH (issue 13): a real OpenSSH server on 127.0.0.1 that accepts only the
// service's deploy key; the build clones with it, pins the server's host key at the first clone
// (shown in the API), refuses a changed host key, and clones again after the pin is reset. The
// private key is never shown, never in a log, and stored sealed.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { deployHarness, fixtureFiles, type DeployHarness } from "../fixtures/webapp/support";
import { git } from "../support/git-http";
import { freePort } from "../support/raw-http";
import { waitForJob } from "../../src/jobs/queue";

setDefaultTimeout(300_000);

const SSHD = "/usr/sbin/sshd";
let h: DeployHarness;
let dir: string;
let sshd: Subprocess | undefined;
let sshdErr = "";
let port: number;
let head: string;

function hostKey(name: string): string {
  const file = join(dir, name);
  const r = Bun.spawnSync(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", file]);
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
  const fp = Bun.spawnSync(["ssh-keygen", "-l", "-f", `${file}.pub`]).stdout.toString().split(" ")[1]!;
  return fp;
}

async function startSshd(key: string) {
  await stopSshd();
  const cfg = join(dir, "sshd_config");
  writeFileSync(
    cfg,
    [
      `Port ${port}`,
      "ListenAddress 127.0.0.1",
      `HostKey ${join(dir, key)}`,
      `AuthorizedKeysFile ${join(dir, "authorized_keys")}`,
      "StrictModes no",
      "UsePAM no",
      "PasswordAuthentication no",
      "KbdInteractiveAuthentication no",
      "PermitRootLogin prohibit-password",
      "AllowUsers root",
      "PidFile none",
      "LogLevel ERROR",
      "",
    ].join("\n"),
  );
  mkdirSync("/run/sshd", { recursive: true, mode: 0o755 }); // privilege separation directory
  sshdErr = "";
  sshd = Bun.spawn([SSHD, "-D", "-e", "-f", cfg], { stdout: "ignore", stderr: "pipe" });
  void (async () => {
    const dec = new TextDecoder();
    for await (const c of sshd!.stderr as ReadableStream<Uint8Array>) sshdErr += dec.decode(c);
  })();
  for (let i = 0; ; i++) {
    if (sshd.exitCode !== null) throw new Error(`sshd exited: ${sshdErr}`);
    const ok = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {}, open(s) { s.end(); } } }).then(() => true, () => false);
    if (ok) break;
    if (i > 200) throw new Error(`sshd did not listen: ${sshdErr}`);
    await Bun.sleep(50);
  }
}

async function stopSshd() {
  if (!sshd || sshd.exitCode !== null) return;
  sshd.kill("SIGTERM");
  await Promise.race([sshd.exited, Bun.sleep(5000)]);
  if (sshd.exitCode === null) sshd.kill("SIGKILL");
}

const keyPath = () => `/api/v1/orgs/${h.org}/projects/web/envs/production/services/app/deploy-key`;

async function build() {
  const r = await h.t.req("POST", `${h.base()}/app/images/build`, undefined, { key: h.key });
  expect(r.status).toBe(201);
  await waitForJob(h.t.deps, r.body.job_id, 200_000).catch(() => undefined);
  const image = (await h.t.req("GET", `/api/v1/images/${r.body.image_id}/detail`, undefined, { key: h.key })).body;
  const log = (await h.t.req("GET", `/api/v1/images/${r.body.image_id}/log`, undefined, { key: h.key })).text;
  return { image, log };
}

let fpA: string;
let fpB: string;
beforeAll(async () => {
  if (!Bun.which(SSHD)) throw new Error(`${SSHD} is missing: apt-get install openssh-server (.ci/run installs it)`);
  dir = mkdtempSync(join(tmpdir(), "ancla-deploykey-"));
  port = freePort();
  fpA = hostKey("host_a");
  fpB = hostKey("host_b");
  writeFileSync(join(dir, "authorized_keys"), "");
  const work = join(dir, "work");
  mkdirSync(work);
  git(work, "init", "-q", "-b", "main");
  for (const [p, f] of Object.entries(fixtureFiles())) {
    const { content, mode } = typeof f === "string" ? { content: f, mode: 0o644 } : f;
    mkdirSync(join(work, p, ".."), { recursive: true });
    writeFileSync(join(work, p), content, { mode });
  }
  git(work, "add", "-A");
  git(work, "commit", "-q", "-m", "app");
  head = git(work, "rev-parse", "HEAD");
  git(dir, "clone", "-q", "--bare", work, join(dir, "private.git"));
  await startSshd("host_a");
  h = await deployHarness("dk", { gitAllowHosts: "127.0.0.0/8" });
  await h.service("app", { git_url: `ssh://root@127.0.0.1:${port}${join(dir, "private.git")}`, build_ref: "main", process_counts: { web: 1 } });
});

afterAll(async () => {
  await stopSshd();
  await h?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe("deploy keys", () => {
  let publicKey: string;

  test("without the deploy key authorized the clone is refused by the server", async () => {
    const { image } = await build();
    expect(image.status).toBe("error");
  });

  test("POST deploy-key returns only the public half; the private half is stored sealed", async () => {
    const r = await h.t.req("POST", keyPath(), undefined, { key: h.key });
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ public_key: expect.stringMatching(/^ssh-ed25519 AAAA\S+ ancla-deploy-key /), fingerprint: expect.stringMatching(/^SHA256:/), known_hosts: [], known_hosts_pinned_at: null, https_token_set: false, created: expect.any(String) });
    publicKey = r.body.public_key;
    const row = h.t.deps.sqlite.query("select deploy_key_private from service_git_credentials").get() as { deploy_key_private: string };
    expect(row.deploy_key_private).toStartWith("enc:v1:");
    writeFileSync(join(dir, "authorized_keys"), publicKey + "\n");
  });

  test("the build clones with the key, records the commit, and pins the host key it saw", async () => {
    const { image, log } = await build();
    expect([image.status, image.error_detail]).toEqual(["complete", null]);
    expect(image.commit_sha).toBe(head);
    expect(log).toContain("host key is pinned at this first clone");
    const view = (await h.t.req("GET", keyPath(), undefined, { key: h.key })).body;
    expect(view.known_hosts).toEqual([{ host: `[127.0.0.1]:${port}`, type: "ssh-ed25519", fingerprint: fpA }]);
    expect(view.known_hosts_pinned_at).toEqual(expect.any(String));
  });

  test("a changed host key is refused with a clear message; after a reset the new key is pinned", async () => {
    await startSshd("host_b");
    const refused = await build();
    expect(refused.image.status).toBe("error");
    expect(refused.image.error_detail).toContain("is not the one pinned at the first clone");
    expect(refused.image.error_detail).toContain(fpA);
    const reset = await h.t.req("DELETE", `${keyPath()}/known-hosts`, undefined, { key: h.key });
    expect(reset.body.known_hosts).toEqual([]);
    const again = await build();
    expect(again.image.status).toBe("complete");
    expect((await h.t.req("GET", keyPath(), undefined, { key: h.key })).body.known_hosts[0].fingerprint).toBe(fpB);
  });

  test("the private key never appears in any response, log or the image's build context", async () => {
    const sealed = (h.t.deps.sqlite.query("select deploy_key_private from service_git_credentials").get() as { deploy_key_private: string }).deploy_key_private;
    const privateKey = h.t.deps.secrets.open(sealed);
    const body = privateKey.split("\n").slice(1, -2).join("");
    expect(body.length).toBeGreaterThan(100);
    for (const b of h.t.bodies) {
      expect(b).not.toContain("PRIVATE KEY");
      expect(b).not.toContain(body.slice(0, 60));
    }
    // the image holds the checkout only: no ssh directory, no key file
    const images = (await h.t.req("GET", `/api/v1/images/${(await h.t.req("GET", `${h.base()}/app`, undefined, { key: h.key })).body.id}`, undefined, { key: h.key })).body.items;
    const ref = (await h.t.req("GET", `/api/v1/images/${images[0].id}/detail`, undefined, { key: h.key })).body;
    const run = Bun.spawnSync(["docker", "run", "--rm", `${ref.repository_name}:${ref.tag}`, "sh", "-c", "grep -rl 'PRIVATE KEY' /www /root /tmp /etc /var 2>/dev/null; find / -xdev -name 'deploy_key*' 2>/dev/null; true"]);
    expect([run.exitCode, run.stdout.toString().trim()]).toEqual([0, ""]);
  });
});
