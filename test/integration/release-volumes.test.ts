// The release phase, one-off runs and persistent volumes on the real Docker engine: a release
// phase writes a marker into a volume that the web process serves, its output lands redacted in
// the deploy log, a failing one keeps the previous release serving, a rollback skips it unless
// asked; a run's output and exit code are recorded; a volume's files survive redeploys and
// rollbacks, and a backup restored into a fresh service gives the same bytes.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { deployHarness, fixtureFiles, type DeployHarness } from "../fixtures/webapp/support";
import { RUN_ID, testDocker } from "../support/docker";
import { createApp } from "../../src/app";
import { volumeBackupFiles } from "../support/volume-tar";

setDefaultTimeout(300_000);

let h: DeployHarness;
let appId = "";
let v1 = "";
const SECRET = "rel-secret-" + crypto.randomUUID();
// web serves the volume below /www/data; the release phase writes the marker there
const procfile = (release: string) => [`release: ${release}`, `web: trap 'exit 0' TERM; ln -sfn /data /www/data && httpd -f -p "$PORT" -h /www & wait $!`].join("\n");
const GOOD = `sh -c 'echo "migrating with $API_TOKEN"; echo "$MARK" > /data/marker'`;

async function run(svc: string, command: string) {
  const r = await h.t.req("POST", `${h.base()}/${svc}/runs`, { command }, { key: h.key });
  expect(r.status).toBe(201);
  for (;;) {
    const g = await h.t.req("GET", `${h.base()}/${svc}/runs/${r.body.id}`, undefined, { key: h.key });
    if (g.body.status !== "running") return g.body;
    await Bun.sleep(200);
  }
}

beforeAll(async () => {
  h = await deployHarness("rel");
  appId = await h.service("app", { deployment_timeout: 60 });
  expect((await h.t.req("POST", `${h.base()}/app/volumes`, { name: "data", mount_path: "/data", size_hint: "1Gi" }, { key: h.key })).status).toBe(201);
  await h.setVar("app", "API_TOKEN", SECRET, true);
  await h.setVar("app", "MARK", "first");
  await h.build("app", fixtureFiles({ Procfile: procfile(GOOD) }));
  v1 = (await h.release(appId)).release_id;
});
afterAll(async () => {
  await h?.close();
  const docker = testDocker();
  for (const v of (await docker.listVolumes({ filters: { label: [`dev.ancla.test-run=${RUN_ID}`] } })).Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true }).catch(() => {});
});

describe("volumes: settings", () => {
  test("bad names and mount paths are 422, duplicates 409; nothing is stored", async () => {
    const bad = [
      { name: "Data", mount_path: "/x" },
      { name: "x", mount_path: "relative" },
      { name: "x", mount_path: "/proc/self" },
      { name: "x", mount_path: "/srv/../etc" },
      { name: "x", mount_path: "/srv/" },
      { name: "x", mount_path: "/srv", size_hint: "lots" },
      { name: "x", mount_path: "/srv", extra: true },
    ];
    for (const body of bad) expect({ body, status: (await h.t.req("POST", `${h.base()}/app/volumes`, body, { key: h.key })).status }).toEqual({ body, status: 422 });
    expect((await h.t.req("POST", `${h.base()}/app/volumes`, { name: "data", mount_path: "/other" }, { key: h.key })).status).toBe(409);
    expect((await h.t.req("POST", `${h.base()}/app/volumes`, { name: "other", mount_path: "/data" }, { key: h.key })).status).toBe(409);
    expect((await h.t.req("POST", `${h.base()}/app/volumes`, { name: "nested", mount_path: "/data/sub" }, { key: h.key })).status).toBe(409);
    const list = await h.t.req("GET", `${h.base()}/app/volumes`, undefined, { key: h.key });
    expect(list.body).toEqual([expect.objectContaining({ name: "data", mount_path: "/data", size_hint: "1Gi", docker_volume: `ancla-vol-${appId}-data` })]);
  });
});

describe("release phase", () => {
  test("runs before the new replicas with the release's config, writes into the volume the web process serves; output redacted in the deploy log", async () => {
    const d = await h.deploy(v1);
    expect(d.status).toBe("complete");
    expect(d.deploy_log).toContain("==> release");
    expect(d.deploy_log).toContain("release | migrating with [redacted]");
    expect(d.deploy_log).not.toContain(SECRET);
    // the release phase ran before any replica started
    expect(d.deploy_log.indexOf("Release phase finished")).toBeLessThan(d.deploy_log.indexOf("Started web replica"));
    expect((await h.get(h.host("app"), "/data/marker")).text).toBe("first\n");
    // no release replica and no leftover one-off container
    const left = await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.service-id=${appId}`] } });
    expect(left.map((c) => c.Labels["dev.ancla.process"])).toEqual(["web"]);
    expect((await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.one-off-service-id=${appId}`] } })).length).toBe(0);
  });

  test("a failing release phase fails the deploy and the previous release keeps serving", async () => {
    await h.setVar("app", "MARK", "second");
    await h.build("app", fixtureFiles({ Procfile: procfile(`sh -c 'echo "$MARK" > /data/marker.new; echo boom; exit 7'`) }));
    const v2 = (await h.release(appId)).release_id;
    const d = await h.deploy(v2);
    expect(d.status).toBe("error");
    expect(d.error_detail).toContain("exited with code 7");
    expect(d.deploy_log).toContain("release | boom");
    expect(d.deploy_log).not.toContain("Started web replica");
    expect((await h.get(h.host("app"), "/data/marker")).text).toBe("first\n");
    expect((await h.get(h.host("app"), "/data/marker.new")).text).toBe("second\n"); // the release phase did run, in the volume
  });

  test("a redeploy (rollback) of a release that already ran skips it unless asked", async () => {
    await run("app", "echo kept > /data/kept.txt");
    const r = await h.t.req("POST", `${h.base()}/app/deploy`, { version: 1 }, { key: h.key });
    expect(r.status).toBe(201);
    const d = await h.waitDeployment(r.body.deployment_id);
    expect(d.status).toBe("complete");
    expect(d.deploy_log).toContain("Skipping the release phase");
    expect(d.deploy_log).not.toContain("release | ");
    const again = await h.t.req("POST", `${h.base()}/app/deploy`, { version: 1, run_release_phase: true }, { key: h.key });
    const d2 = await h.waitDeployment(again.body.deployment_id);
    expect(d2.status).toBe("complete");
    expect(d2.deploy_log).toContain("release | migrating with [redacted]");
    // the volume's files survived both deploys
    expect((await h.get(h.host("app"), "/data/kept.txt")).text).toBe("kept\n");
    expect((await h.t.req("POST", `${h.base()}/app/deploy`, { version: 1, run_release_phase: "yes" }, { key: h.key })).status).toBe(422);
  });
});

describe("one-off runs", () => {
  test("output (redacted) and exit code are recorded; the run is in the service's list; the container is gone", async () => {
    const r = await run("app", `echo "hello $API_TOKEN"; cat /data/marker; echo err >&2; exit 3`);
    expect(r.status).toBe("failed");
    expect(r.exit_code).toBe(3);
    expect(r.output).toContain("hello [redacted]\n");
    expect(r.output).toContain("first\n");
    expect(r.output).toContain("err\n");
    expect(r.output).not.toContain(SECRET);
    expect(r.duration_ms).toBeGreaterThan(0);
    const ok = await run("app", "true");
    expect(ok.status).toBe("succeeded");
    expect(ok.exit_code).toBe(0);
    const list = await h.t.req("GET", `${h.base()}/app/runs`, undefined, { key: h.key });
    expect(list.body.items[0]).toEqual(expect.objectContaining({ id: ok.id, command: "true", exit_code: 0, output: null }));
    // the service's history (the dashboard's Deployments tab) shows runs, their log one request away
    const activity = await h.t.req("GET", `${h.base()}/app/activity`, undefined, { key: h.key });
    const failed = activity.body.items.find((i: { id: string }) => i.id === r.id);
    expect(failed).toEqual(expect.objectContaining({ kind: "run", status: "error", error_detail: "exited with code 3", release_version: 1 }));
    expect(failed.command).toContain("exit 3");
    const log = await h.t.req("GET", failed.log_path, undefined, { key: h.key });
    expect(log.body).toEqual(expect.objectContaining({ status: "failed", exit_code: 3 }));
    expect(log.body.log_text).toContain("hello [redacted]");
    expect((await testDocker().listContainers({ all: true, filters: { label: [`dev.ancla.one-off-service-id=${appId}`] } })).length).toBe(0);
  });

  test("bad input is 422, a service with no deployment 409, another org's service 404", async () => {
    expect((await h.t.req("POST", `${h.base()}/app/runs`, { command: "" }, { key: h.key })).status).toBe(422);
    expect((await h.t.req("POST", `${h.base()}/app/runs`, { command: "x", timeout_seconds: 0 }, { key: h.key })).status).toBe(422);
    await h.service("empty");
    const r = await h.t.req("POST", `${h.base()}/empty/runs`, { command: "true" }, { key: h.key });
    expect(r.status).toBe(409);
    const stranger = await h.t.user("relstranger");
    expect((await h.t.req("POST", `${h.base()}/app/runs`, { command: "true" }, { key: stranger.key })).status).toBe(404);
    expect((await h.t.req("GET", `${h.base()}/app/volumes/data/backup`, undefined, { key: stranger.key })).status).toBe(404);
  });
});

describe("volume backup and restore", () => {
  test("a backup restored into a fresh service gives the same bytes; restoring under running replicas is refused", async () => {
    // the bytes as they come (the harness's req reads text)
    const backup = await createApp(h.t.deps).handle(new Request(`http://localhost${h.base()}/app/volumes/data/backup`, { headers: { "x-api-key": h.key } }));
    expect(backup.status).toBe(200);
    expect(backup.headers.get("content-type")).toBe("application/gzip");
    const raw = Buffer.from(await backup.arrayBuffer());
    const files = await volumeBackupFiles(raw);
    expect(files.marker).toBe("first\n");
    expect(files["kept.txt"]).toBe("kept\n");

    const copyId = await h.service("copy", { deployment_timeout: 60 });
    expect((await h.t.req("POST", `${h.base()}/copy/volumes`, { name: "files", mount_path: "/data" }, { key: h.key })).status).toBe(201);
    await h.build("copy", fixtureFiles({ Procfile: `web: trap 'exit 0' TERM; ln -sfn /data /www/data && httpd -f -p "$PORT" -h /www & wait $!` }));
    const rel = await h.release(copyId);
    // sent with curl --data-binary's default type (a form): the route reads the archive, not a form parser
    const restored = await h.t.req("POST", `${h.base()}/copy/volumes/files/restore`, undefined, { key: h.key, raw: new Uint8Array(raw) as unknown as BodyInit, headers: { "content-type": "application/x-www-form-urlencoded" } });
    expect(restored.status).toBe(200);
    expect((await h.deploy(rel.release_id)).status).toBe("complete");
    expect((await h.get(h.host("copy"), "/data/kept.txt")).text).toBe("kept\n");
    expect((await h.get(h.host("copy"), "/data/marker")).text).toBe("first\n");
    // while web runs with it mounted: 409, and the files are unchanged
    const busy = await h.t.req("POST", `${h.base()}/copy/volumes/files/restore`, undefined, { key: h.key, raw: new Uint8Array(raw) as unknown as BodyInit });
    expect(busy.status).toBe(409);
    expect(busy.body.message).toContain("scale the service to 0");
    expect((await h.get(h.host("copy"), "/data/kept.txt")).text).toBe("kept\n");
    // scaled to 0 (`ancla down`) and restored at once: the restore waits for the replica still stopping
    expect((await h.t.req("POST", `/api/v1/applications/${copyId}/scale`, { process_counts: { web: 0 } }, { key: h.key })).status).toBe(201);
    const afterDown = await h.t.req("POST", `${h.base()}/copy/volumes/files/restore`, undefined, { key: h.key, raw: new Uint8Array(raw) as unknown as BodyInit });
    expect([afterDown.status, afterDown.body.message]).toEqual([200, undefined]);
    expect(await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${copyId}`] } })).toEqual([]);
    // a read-only key may list runs and volumes but not download a volume's data
    const ro = await h.t.req("POST", "/api/keys/", { name: "read-only", scopes: ["read"] }, { key: h.key });
    expect(ro.status).toBe(201);
    expect((await h.t.req("GET", `${h.base()}/app/volumes`, undefined, { key: ro.body.key })).status).toBe(200);
    expect((await h.t.req("GET", `${h.base()}/app/volumes/data/backup`, undefined, { key: ro.body.key })).status).toBe(403);
    const junk = await h.t.req("POST", `${h.base()}/app/volumes/nope/restore`, undefined, { key: h.key, raw: new Uint8Array(raw) as unknown as BodyInit });
    expect(junk.status).toBe(404);
  });

  test("deleting a service keeps its volume unless delete_volumes=true; a new service of the same name starts empty", async () => {
    const docker = testDocker();
    const copyId = (await h.t.req("GET", `${h.base()}/copy`, undefined, { key: h.key })).body.id;
    expect((await h.t.req("DELETE", `${h.base()}/app`, undefined, { key: h.key })).status).toBe(200);
    expect((await h.t.req("DELETE", `${h.base()}/copy?delete_volumes=true`, undefined, { key: h.key })).status).toBe(200);
    const gone = () => docker.getVolume(`ancla-vol-${copyId}-files`).inspect().then(() => false, () => true);
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline && !(await gone())) await Bun.sleep(200);
    expect(await gone()).toBe(true);
    expect((await docker.getVolume(`ancla-vol-${appId}-data`).inspect()).Labels["dev.ancla.service-id"]).toBe(appId);
    // a new service of the same name gets a volume of its own, without the old data
    const again = await h.service("app", { deployment_timeout: 30 });
    expect((await h.t.req("POST", `${h.base()}/app/volumes`, { name: "data", mount_path: "/data" }, { key: h.key })).status).toBe(201);
    await h.build("app", fixtureFiles({ Procfile: `web: trap 'exit 0' TERM; ln -sfn /data /www/data && httpd -f -p "$PORT" -h /www & wait $!` }));
    const d = await h.deploy((await h.release(again)).release_id);
    expect(d.status).toBe("complete");
    expect((await h.get(h.host("app"), "/data/kept.txt")).status).toBe(404);
    expect((await docker.getVolume(`ancla-vol-${again}-data`).inspect()).Labels["dev.ancla.service-id"]).toBe(again);
  });
});
