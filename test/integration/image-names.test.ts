// Image names that two tenants cannot share, on the real Docker engine. Org `<x>` / project `web` /
// env `stage-x` and org `<x>-web` / project `stage` / env `x` (service `api` in both) both used to
// build `ancla/<x>-web-stage-x-api`:
// one's build moved the other's tag, and its retention could untag the other's image. Names now have
// one path component per slug; an image row built under the old name keeps deploying, rolling back
// and being pruned by that row's name and image id, never touching what the name now points at.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { deployHarness, fixtureFiles, type DeployHarness } from "../fixtures/webapp/support";
import { contextTar, removeOrgResources, testDocker } from "../support/docker";
import { waitForJob } from "../../src/jobs/queue";
import { updateImage } from "../../src/modules/images/repo";
import { releases } from "../../src/db/schema";
import { eq } from "drizzle-orm";

// real builds and rollouts
setDefaultTimeout(600_000);

let h: DeployHarness;
type Tenant = { org: string; project: string; env: string; base: string; id: string; host: string };
let a: Tenant;
let b: Tenant;

const docker = () => testDocker();
const imageId = (ref: string) => docker().getImage(ref).inspect().then((i) => i.Id, () => null);
const runningImages = async (serviceId: string) =>
  [...new Set((await docker().listContainers({ filters: { label: [`dev.ancla.service-id=${serviceId}`] } })).map((c) => c.ImageID))];

async function tenant(org: string, project: string, env: string): Promise<Tenant> {
  if (org !== h.org) expect((await h.t.req("POST", "/api/v1/organizations", { name: org, slug: org }, { key: h.key })).status).toBe(201);
  if (project !== "web") expect((await h.t.req("POST", `/api/v1/orgs/${org}/projects`, { name: project, slug: project }, { key: h.key })).status).toBe(201);
  expect((await h.t.req("POST", `/api/v1/orgs/${org}/projects/${project}/envs`, { name: env, slug: env }, { key: h.key })).status).toBe(201);
  const base = `/api/v1/orgs/${org}/projects/${project}/envs/${env}/services`;
  const r = await h.t.req("POST", base, { name: "api", keep_images: 1, deployment_timeout: 60 }, { key: h.key });
  expect(r.status).toBe(201);
  return { org, project, env, base: `${base}/api`, id: r.body.id, host: `api.${env}.${project}.${org}.${h.t.deps.config.domain}` };
}

async function build(x: Tenant): Promise<{ id: string; version: number; repository: string; ref: string; dockerId: string }> {
  const r = await h.t.req("POST", `${x.base}/images/build`, undefined, { key: h.key, raw: (await contextTar(fixtureFiles())) as unknown as BodyInit, headers: { "content-type": "application/x-tar" } });
  expect(r.status).toBe(201);
  expect((await waitForJob(h.t.deps, r.body.job_id, 180_000)).status).toBe("complete");
  const d = (await h.t.req("GET", `/api/v1/images/${r.body.image_id}/detail`, undefined, { key: h.key })).body;
  return { id: d.id, version: d.version, repository: d.repository_name, ref: d.build_slug, dockerId: d.image_id };
}

async function releaseAndDeploy(x: Tenant): Promise<string> {
  const rel = await h.release(x.id);
  const d = await h.deploy(rel.release_id);
  if (d.status !== "complete") throw new Error(`deploy failed: ${JSON.stringify(d)}`);
  return rel.release_id;
}

beforeAll(async () => {
  h = await deployHarness("nm");
  a = await tenant(h.org, "web", "stage-x");
  b = await tenant(`${h.org}-web`, "stage", "x");
});

afterAll(async () => {
  // the harness's self-healing loop first: running, it would replace b's replicas the removal takes away
  try {
    await h?.close();
  } finally {
    if (b) await removeOrgResources(b.org);
  }
});

describe("image names of two tenants whose slugs join to the same old name", () => {
  let a1: Awaited<ReturnType<typeof build>>;
  let aRelease1: string;
  let b3: Awaited<ReturnType<typeof build>>;

  test("each builds into its own repository; the other's builds, retention and deletion leave its tag, image and replicas alone", async () => {
    a1 = await build(a);
    const b1 = await build(b);
    expect(a1.repository).toBe(`ancla/${h.org}/web/stage-x/api`);
    expect(b1.repository).toBe(`ancla/${h.org}-web/stage/x/api`);
    expect(a1.ref).toBe(`ancla/${h.org}/web/stage-x/api:v1`);
    aRelease1 = await releaseAndDeploy(a);
    await releaseAndDeploy(b);
    expect((await h.get(a.host)).status).toBe(200);
    expect((await h.get(b.host)).status).toBe(200);

    // B builds twice more (keep_images 1): its v1 is pruned; A's v1 keeps its tag and image
    await build(b);
    await releaseAndDeploy(b);
    b3 = await build(b);
    expect(await imageId(b1.ref)).toBeNull();
    expect(await imageId(a1.ref)).toBe(a1.dockerId);
    expect(await runningImages(a.id)).toEqual([a1.dockerId]);

    // deleting B's service removes its replicas, not A's
    expect((await h.t.req("DELETE", b.base, undefined, { key: h.key })).status).toBe(200);
    expect(await imageId(a1.ref)).toBe(a1.dockerId);
    expect(await runningImages(a.id)).toEqual([a1.dockerId]);
    expect((await h.get(a.host)).status).toBe(200);
  });

  test("an image row built under the old name still deploys and rolls back, and its pruning leaves the image the old name now points at", async () => {
    // play the upgrade: A's v1 (row, release and engine) carries only the old name, and B's build
    // (same old name) moved that tag onto B's image
    const old = `ancla/${h.org}-web-stage-x-api`;
    updateImage(h.t.deps.db, a1.id, { repositoryName: old });
    h.t.deps.db.update(releases).set({ repositoryName: old }).where(eq(releases.id, aRelease1)).run();
    await docker().getImage(a1.dockerId).tag({ repo: old, tag: "v1" });
    await docker().getImage(a1.ref).remove({ noprune: true }); // untags: the old name still names it
    await docker().getImage(b3.dockerId).tag({ repo: old, tag: "v1" });
    expect(await imageId(a1.ref)).toBeNull();
    expect(await imageId(`${old}:v1`)).toBe(b3.dockerId);
    const shown = (await h.t.req("GET", `/api/v1/images/${a1.id}/detail`, undefined, { key: h.key })).body;
    expect(shown).toMatchObject({ repository_name: old, build_slug: `${old}:v1` });

    // a new build of A uses the new name; deploy it, then roll back to the old-named release
    const a2 = await build(a);
    expect(a2.ref).toBe(`ancla/${h.org}/web/stage-x/api:v2`);
    const aRelease2 = await releaseAndDeploy(a);
    expect(await runningImages(a.id)).toEqual([a2.dockerId]);
    const back = await h.t.req("POST", `${a.base}/deploy`, { version: 1 }, { key: h.key });
    expect(back.status).toBe(201);
    expect((await h.waitDeployment(back.body.deployment_id)).status).toBe("complete");
    expect(await runningImages(a.id)).toEqual([a1.dockerId]); // A's own v1, not what the old tag names now
    expect((await h.get(a.host)).status).toBe(200);

    // back on v2, then v3: retention prunes A's v1 by its row — A's image goes, B's image keeps the name
    expect((await h.deploy(aRelease2)).status).toBe("complete");
    await build(a);
    expect(await imageId(a1.dockerId)).toBeNull();
    expect(await imageId(`${old}:v1`)).toBe(b3.dockerId);
    expect(await imageId(b3.ref)).toBe(b3.dockerId);
    expect(await imageId(a2.ref)).toBe(a2.dockerId);
  });

  test("after a slug rename new builds take the new name, and retention still removes an image built under the old one", async () => {
    const before = (await h.t.req("GET", `${a.base}/images`, undefined, { key: h.key })).body.items;
    const newest = before.reduce((x: { version: number }, y: { version: number }) => (y.version > x.version ? y : x));
    const prev = (await h.t.req("GET", `/api/v1/images/${newest.id}/detail`, undefined, { key: h.key })).body;
    expect(prev.build_slug).toBe(`ancla/${h.org}/web/stage-x/api:v${prev.version}`);
    expect((await h.t.req("PATCH", `/api/v1/orgs/${h.org}/projects/web/envs/stage-x`, { slug: "stage-y" }, { key: h.key })).status).toBe(200);
    a = { ...a, env: "stage-y", base: `/api/v1/orgs/${h.org}/projects/web/envs/stage-y/services/api` };
    const next = await build(a); // keep_images 1: the previous build (not released) goes
    expect(next.ref).toBe(`ancla/${h.org}/web/stage-y/api:v${prev.version + 1}`);
    expect(await imageId(prev.build_slug)).toBeNull();
    expect(await imageId(prev.image_id)).toBeNull();
    expect(await imageId(next.ref)).toBe(next.dockerId);
  });
});
