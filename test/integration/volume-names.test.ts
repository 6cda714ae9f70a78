// Docker volume names on the real engine: two services whose slugs once ran together into one
// volume name (`ancla-<org>-<project>-<env>-<service>-<name>`, dashes inside slugs) each get a
// volume of their own, and a volume made under the old name for a service keeps serving it: runs,
// deploys, backups and delete_volumes all use it.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import * as tar from "tar-stream";
import { deployHarness, fixtureFiles, type DeployHarness } from "../fixtures/webapp/support";
import { BASE_IMAGE, RUN_ID, RUN_LABELS, testDocker } from "../support/docker";
import { createApp } from "../../src/app";
import { volumeBackupFiles } from "../support/volume-tar";

setDefaultTimeout(300_000);

let h: DeployHarness;
const WEB = `web: ln -sfn /data /www/data && exec httpd -f -p "$PORT" -h /www`;

async function tarOf(files: Record<string, string>): Promise<Uint8Array> {
  const pack = tar.pack();
  for (const [name, content] of Object.entries(files)) pack.entry({ name, mode: 0o644 }, content);
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack) chunks.push(c as Buffer);
  return new Uint8Array(Buffer.concat(chunks));
}

async function backupFiles(path: string): Promise<Record<string, string>> {
  const res = await createApp(h.t.deps).handle(new Request(`http://localhost${path}`, { headers: { "x-api-key": h.key } }));
  expect(res.status).toBe(200);
  return volumeBackupFiles(new Uint8Array(await res.arrayBuffer()));
}

async function env(slug: string) {
  expect((await h.t.req("POST", `/api/v1/orgs/${h.org}/projects/web/envs`, { name: slug, slug }, { key: h.key })).status).toBe(201);
}

/** A service with a volume `data` at /data and a built image and release (not deployed). */
async function serviceWithVolume(svc: string, envSlug: string) {
  const id = await h.service(svc, { deployment_timeout: 60 }, envSlug);
  expect((await h.t.req("POST", `${h.base(envSlug)}/${svc}/volumes`, { name: "data", mount_path: "/data" }, { key: h.key })).status).toBe(201);
  await h.build(svc, fixtureFiles({ Procfile: WEB }), envSlug);
  const release = await h.release(id);
  return { id, releaseId: release.release_id as string };
}

const restore = (path: string, body: Uint8Array) => h.t.req("POST", `${path}/restore`, undefined, { key: h.key, raw: body as unknown as BodyInit, headers: { "content-type": "application/x-tar" } });

beforeAll(async () => {
  h = await deployHarness("vn");
});
afterAll(async () => {
  await h?.close();
  const docker = testDocker();
  for (const v of (await docker.listVolumes({ filters: { label: [`dev.ancla.test-run=${RUN_ID}`] } })).Volumes ?? []) await docker.getVolume(v.Name).remove({ force: true }).catch(() => {});
});

describe("volume names", () => {
  test("services whose slugs once gave the same volume name each get their own volume", async () => {
    // env `x` / service `y-app` and env `x-y` / service `app`: both were ancla-<org>-web-x-y-app-data
    // (the same run-together as org `a` / project `b-c` and org `a-b` / project `c`)
    await env("x");
    await env("x-y");
    const one = await serviceWithVolume("y-app", "x");
    const two = await serviceWithVolume("app", "x-y");
    expect((await restore(`${h.base("x")}/y-app/volumes/data`, await tarOf({ owner: "one\n" }))).status).toBe(200);
    const second = await restore(`${h.base("x-y")}/app/volumes/data`, await tarOf({ owner: "two\n" }));
    expect(second.body).toEqual({ ok: true, bytes: expect.any(Number) });
    expect(await backupFiles(`${h.base("x")}/y-app/volumes/data/backup`)).toEqual({ owner: "one\n" });
    expect(await backupFiles(`${h.base("x-y")}/app/volumes/data/backup`)).toEqual({ owner: "two\n" });
    const list = await h.t.req("GET", `${h.base("x-y")}/app/volumes`, undefined, { key: h.key });
    expect(list.body[0].docker_volume).toBe(`ancla-vol-${two.id}-data`);
    // deployed, each serves its own files
    expect((await h.deploy(one.releaseId)).status).toBe("complete");
    expect((await h.deploy(two.releaseId)).status).toBe("complete");
    expect((await h.get(h.host("y-app", "x"), "/data/owner")).text).toBe("one\n");
    expect((await h.get(h.host("app", "x-y"), "/data/owner")).text).toBe("two\n");
  });

  test("a volume made under the old name for this service keeps its data: runs, deploys, backups and delete_volumes use it", async () => {
    const docker = testDocker();
    const legacy = `ancla-${h.org}-web-production-old-data`;
    const id = await h.service("old", { deployment_timeout: 60 });
    // what an earlier version made: the old name, this service's id as the owner label, some data
    await docker.createVolume({ Name: legacy, Labels: { ...RUN_LABELS, "dev.ancla.service-id": id, "dev.ancla.volume": "data" } } as never);
    const writer = await docker.createContainer({ Image: BASE_IMAGE, Cmd: ["sh", "-c", "echo kept > /v/marker"], Labels: RUN_LABELS, HostConfig: { Mounts: [{ Type: "volume", Source: legacy, Target: "/v" }] } } as never);
    await writer.start();
    await writer.wait();
    await writer.remove({ force: true });

    expect((await h.t.req("POST", `${h.base()}/old/volumes`, { name: "data", mount_path: "/data" }, { key: h.key })).body.docker_volume).toBe(legacy);
    await h.build("old", fixtureFiles({ Procfile: `release: cat /data/marker\n${WEB}` }));
    const rel = await h.release(id);
    const d = await h.deploy(rel.release_id);
    expect(d.status).toBe("complete");
    expect(d.deploy_log).toContain("release | kept");
    expect((await h.get(h.host("old"), "/data/marker")).text).toBe("kept\n");
    const run = await h.t.req("POST", `${h.base()}/old/runs`, { command: "cat /data/marker" }, { key: h.key });
    expect(run.status).toBe(201);
    let r: { status: string; output: string } = run.body;
    for (const deadline = Date.now() + 60_000; r.status === "running" && Date.now() < deadline; await Bun.sleep(200)) r = (await h.t.req("GET", `${h.base()}/old/runs/${run.body.id}`, undefined, { key: h.key })).body;
    expect(r).toEqual(expect.objectContaining({ status: "succeeded", output: "kept\n" }));
    expect(await backupFiles(`${h.base()}/old/volumes/data/backup`)).toEqual({ marker: "kept\n" });
    // no second volume was made under the new name
    expect(await docker.getVolume(`ancla-vol-${id}-data`).inspect().then(() => true, () => false)).toBe(false);
    expect((await h.t.req("DELETE", `${h.base()}/old?delete_volumes=true`, undefined, { key: h.key })).status).toBe(200);
    const gone = () => docker.getVolume(legacy).inspect().then(() => false, () => true);
    for (const deadline = Date.now() + 60_000; Date.now() < deadline && !(await gone()); ) await Bun.sleep(200);
    expect(await gone()).toBe(true);
  });
});
