// Exec, runs and volumes against a live `ancla serve` and the real Docker engine: the published
// CLI's flow (POST …/workspaces/…/exec, then Debian's ssh with the token), `ancla shell -c`,
// `ancla run --remote` (output and exit code), `ancla volumes` and a backup to a file; a volume's
// files survive `kill -9` of the server and a restart.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { gunzipSync } from "node:zlib";
import { ancla, anclaCommand, cleanEnv, startLiveServer, type LiveServer } from "../support/server";
import { ensureBaseImage, RUN_ID, RUN_LABELS_ENV, removeOrgResources, testDocker } from "../support/docker";

setDefaultTimeout(300_000);

let s: LiveServer;
let key = "";
const root = mkdtempSync(join(tmpdir(), "ancla-exec-cli-"));
const dataDir = join(root, "data");
const dir = join(root, "app");
const ORG = `exc${RUN_ID}`.toLowerCase();
const TARGET = `${ORG}/web/production/app`;
const FIXTURE = resolve(import.meta.dir, "../fixtures/webapp");
const INDEX = readFileSync(join(FIXTURE, "www/index.html"), "utf8");
const svcPath = `/api/v1/orgs/${ORG}/projects/web/envs/production/services/app`;

const cli = (args: string[]) => ancla(args, { home: s.home, cwd: dir, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: key } });
const api = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(s.url + path, { method, headers: { "x-api-key": key, "content-type": "application/json" }, body: body === undefined ? undefined : JSON.stringify(body) });
  return { status: r.status, body: (await r.json().catch(() => null)) as any };
};
const sshPort = () => Number(/ancla ssh listening on 127\.0\.0\.1:(\d+)/.exec(s.output())?.[1]);
const routerUrl = () => /ancla router listening on (http:\/\/\S+)/.exec(s.output())![1]!;
async function viaRouter(path: string) {
  const res = await fetch(routerUrl() + path, { headers: { host: `app.web.${ORG}.localhost` } });
  return { status: res.status, text: await res.text() };
}
async function start() {
  s = await startLiveServer({ env: RUN_LABELS_ENV, dataDir, createKey: key === "" });
  if (!key) key = s.adminKey;
  for (let i = 0; i < 100 && !sshPort(); i++) await Bun.sleep(100);
}

beforeAll(async () => {
  await ensureBaseImage();
  await start();
  expect((await api("POST", "/api/v1/organizations", { name: ORG, slug: ORG })).status).toBe(201);
  expect((await api("POST", `/api/v1/orgs/${ORG}/projects`, { name: "Web", slug: "web" })).status).toBe(201);
  expect((await api("POST", `/api/v1/orgs/${ORG}/projects/web/envs/production/services`, { name: "app", deployment_timeout: 60 })).status).toBe(201);
  cpSync(FIXTURE, dir, { recursive: true, filter: (src) => !src.endsWith("support.ts") });
  writeFileSync(join(dir, "Procfile"), `release: sh -c 'echo released > /data/marker'\nweb: trap 'exit 0' TERM; ln -sfn /data /www/data && httpd -f -p "$PORT" -h /www & wait $!\n`);
});
afterAll(async () => {
  await s?.stop();
  await removeOrgResources(ORG);
  const docker = testDocker();
  for (const v of (await docker.listVolumes({ filters: { label: [`dev.ancla.org=${ORG}`] } })).Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true }).catch(() => {});
  rmSync(root, { recursive: true, force: true });
});

describe("volumes and deploy", () => {
  test("ancla volumes add/list; the deploy's release phase writes into the volume the web process serves", async () => {
    const add = await cli(["volumes", "add", "data", "/data", TARGET, "--size", "1Gi"]);
    expect(add.code).toBe(0);
    expect((await cli(["volumes", "add", "bad", "/proc", TARGET])).code).toBe(2);
    const list = await cli(["volumes", TARGET]);
    const appId = (await api("GET", `/api/v1/orgs/${ORG}/projects/web/envs/production/services/app`)).body.id;
    expect(list.stdout).toMatch(new RegExp(`^data\\s+/data\\s+1Gi\\s+ancla-vol-${appId}-data$`, "m"));
    const d = await cli(["deploy", "--target", TARGET]);
    if (d.code !== 0) throw new Error(`deploy failed: ${d.stderr}`);
    expect((await viaRouter("/data/marker")).text).toBe("released\n");
  });
});

describe("exec", () => {
  test("the published CLI's flow: POST …/workspaces/…/exec, then ssh -p PORT token:TOKEN@HOST command", async () => {
    expect(sshPort()).toBeGreaterThan(0);
    const grant = await api("POST", `/api/v1/workspaces/${ORG}/projects/web/envs/production/services/app/exec`, { process: "web", command: "/bin/sh" });
    expect(grant.status).toBe(201);
    expect(grant.body.port).toBe(sshPort());
    const proc = Bun.spawn(["ssh", "-o", "StrictHostKeyChecking=no", "-o", "UserKnownHostsFile=/dev/null", "-o", "LogLevel=ERROR", "-p", String(grant.body.port), `token:${grant.body.token}@${grant.body.host}`, "cat /www/index.html"], {
      stdin: "ignore",
      stdout: "pipe",
      stderr: "pipe",
    });
    expect(await new Response(proc.stdout).text()).toBe(INDEX);
    expect(await proc.exited).toBe(0);
  });

  test("ancla shell -c runs a command over the WebSocket: output and exit status", async () => {
    const r = await cli(["shell", TARGET, "-c", "cat /www/index.html"]);
    expect(r.stdout).toBe(INDEX);
    expect(r.code).toBe(0);
    const failing = await cli(["shell", TARGET, "-c", "echo nope >&2; exit 6"]);
    expect(failing.code).toBe(6);
    expect(failing.stderr).toContain("nope");
    expect((await cli(["shell", TARGET, "-p", "worker"])).code).toBe(5); // 409: no worker runs
  });
});

describe("ancla shell in a terminal", () => {
  test("a PTY: the shell's banner and prompt appear, the terminal's size reaches the replica, `exit 3` makes ancla exit 3", async () => {
    const script = join(root, "shell.exp");
    writeFileSync(
      script,
      [
        "set timeout 60",
        "set stty_init {rows 31 columns 97}",
        `spawn ${anclaCommand().join(" ")} shell ${TARGET}`,
        // each wait fails the script (exit 9x) rather than go on silently after 60 s: the shell's
        // banner and first prompt, printed before the terminal's resize, used to be dropped (a
        // prompt showed only when the resize redrew it, else expect waited out its timeout)
        'expect {\n  timeout { exit 91 }\n  "built-in shell"\n}',
        'expect {\n  timeout { exit 92 }\n  "# "\n}',
        'send "stty size\r"',
        'expect {\n  timeout { exit 93 }\n  -re "31 97"\n}',
        'send "exit 3\r"',
        'expect {\n  timeout { exit 94 }\n  eof\n}',
        "lassign [wait] pid spawnid os_error value",
        "exit $value",
      ].join("\n"),
    );
    const proc = Bun.spawn(["expect", script], { cwd: dir, env: cleanEnv({ HOME: s.home, ANCLA_SERVER: s.url, ANCLA_API_KEY: key }), stdout: "pipe", stderr: "pipe" });
    const [out, code] = await Promise.all([new Response(proc.stdout).text(), proc.exited]);
    expect(out).toContain("31 97");
    expect({ code, out: out.slice(-800) }).toMatchObject({ code: 3 });
  });
});

describe("runs and backups", () => {
  test("ancla run --remote: the output streams and the exit code becomes ancla's", async () => {
    const r = await cli(["run", TARGET, "--remote", "--", "sh", "-c", "echo from-run; cat /data/marker; echo survive > /data/kept.txt; exit 4"]);
    expect(r.stdout).toContain("from-run\nreleased\n");
    expect(r.code).toBe(4);
    const ok = await cli(["run", TARGET, "--remote", "--", "true"]);
    expect(ok.code).toBe(0);
  });

  test("ancla volumes backup --file writes a tar.gz of the volume", async () => {
    const file = join(root, "backup.tar.gz");
    const r = await cli(["volumes", "backup", "data", TARGET, "--file", file]);
    expect(r.code).toBe(0);
    const tarText = gunzipSync(readFileSync(file)).toString("latin1");
    expect(tarText).toContain("survive\n");
    expect(tarText).toContain("released\n");
  });

  test("ancla volumes restore refuses while web runs with the volume (exit 5); --scale-down stops it, restores and brings it back", async () => {
    const file = join(root, "backup.tar.gz");
    expect((await cli(["run", TARGET, "--remote", "--", "sh", "-c", "echo changed > /data/kept.txt"])).code).toBe(0);
    // a missing or unreadable archive is a usage error (2) before anything is sent, not "server unreachable" (7)
    const missing = await cli(["volumes", "restore", "data", join(root, "nope.tar.gz"), TARGET]);
    expect([missing.code, missing.stderr.trim()]).toEqual([2, `error: cannot read the archive ${join(root, "nope.tar.gz")}: no such file`]);
    const dir = await cli(["volumes", "restore", "data", root, TARGET]);
    expect(dir.code).toBe(2);
    expect(dir.stderr).toContain("is a directory");
    const busy = await cli(["volumes", "restore", "data", file, TARGET]);
    expect(busy.code).toBe(5);
    expect(busy.stderr).toContain("scale the service to 0");
    const r = await cli(["volumes", "restore", "data", file, TARGET, "--scale-down"]);
    if (r.code !== 0) throw new Error(`restore failed: ${r.stderr}`);
    expect(r.stdout).toMatch(/^Restored volume data from \d+ bytes$/m);
    expect((await viaRouter("/data/kept.txt")).text).toBe("survive\n");
  });

  test("the volume's files survive kill -9 of the server and a restart", async () => {
    s.proc.kill("SIGKILL");
    await s.proc.exited;
    await start();
    expect((await viaRouter("/data/kept.txt")).text).toBe("survive\n");
    const r = await cli(["run", TARGET, "--remote", "--", "cat", "/data/kept.txt"]);
    expect(r.stdout).toBe("survive\n");
    expect(r.code).toBe(0);
  });

  test("ancla services delete: refused without --yes and no terminal; with --delete-volumes the service, its replicas and its volume go", async () => {
    const appId = (await api("GET", svcPath)).body.id;
    const volume = `ancla-vol-${appId}-data`;
    const refused = await cli(["services", "delete", TARGET, "--delete-volumes"]);
    expect([refused.code, refused.stderr]).toEqual([2, expect.stringContaining(`Delete service ${TARGET} and the data in its volumes? Refusing without --yes`)]);
    expect((await api("GET", svcPath)).status).toBe(200);
    // the service is always named: a linked directory does not pick what is deleted
    expect((await cli(["services", "delete", "--yes"])).code).toBe(2);
    // `..` is no name: as a URL segment it would have made this a DELETE of the environment
    const up = await cli(["services", "delete", `${ORG}/web/production/..`, "--yes"]);
    expect([up.code, up.stderr]).toEqual([2, expect.stringContaining("'..' is not a name")]);
    expect((await api("GET", `/api/v1/orgs/${ORG}/projects/web/envs/production`)).status).toBe(200);
    const r = await cli(["services", "delete", TARGET, "--delete-volumes", "--yes", "--json"]);
    expect([r.code, r.stderr]).toEqual([0, ""]);
    expect(JSON.parse(r.stdout)).toEqual({ ok: true, deleted: TARGET, volumes_deleted: true });
    expect((await api("GET", svcPath)).status).toBe(404);
    const docker = testDocker();
    const deadline = Date.now() + 120_000;
    const left = async () => ({
      containers: (await docker.listContainers({ all: true, filters: { label: [`dev.ancla.service-id=${appId}`] } })).length,
      volume: await docker.getVolume(volume).inspect().then(() => true, () => false),
    });
    while (Date.now() < deadline && JSON.stringify(await left()) !== JSON.stringify({ containers: 0, volume: false })) await Bun.sleep(250);
    expect(await left()).toEqual({ containers: 0, volume: false });
  });
});
