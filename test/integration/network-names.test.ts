// A project's Docker network is `ancla-net-<project id>`: two tenants whose slugs join to the same
// old `ancla-<org>-<project>` name (org "a" project "b-web", org "a-b" project "web") both deploy and
// serve, each on its own network; a project whose network was made under the old name (with its
// labels) keeps deploying onto it, and its one-off runs join it too.
import { afterAll, beforeAll, expect, setDefaultTimeout, test } from "bun:test";
import { deployHarness, fixtureFiles, type DeployHarness } from "../fixtures/webapp/support";
import { contextTar, removeOrgResources, RUN_ID, RUN_LABELS, testDocker } from "../support/docker";
import { waitForJob } from "../../src/jobs/queue";

setDefaultTimeout(300_000);

let h: DeployHarness;
// h.org is `n<run>-<run>`: org `n<run>` with project `<run>-web` spells the same old name as h.org/web
const otherOrg = `n${RUN_ID}`.toLowerCase();
const otherProject = `${RUN_ID}-web`.toLowerCase();

beforeAll(async () => {
  h = await deployHarness(`n${RUN_ID}-`);
});

afterAll(async () => {
  // the harness's self-healing loop first: running, it would replace the other tenant's replica
  // the removal takes away, and that one would outlive the run
  try {
    await h?.close();
  } finally {
    await removeOrgResources(otherOrg);
  }
});

/** The networks the service's running replicas are attached to. */
async function networksOf(serviceId: string): Promise<string[]> {
  const found = await testDocker().listContainers({ filters: { label: [`dev.ancla.service-id=${serviceId}`] } });
  return [...new Set(found.flatMap((c) => Object.keys(c.NetworkSettings?.Networks ?? {})))];
}

async function deployIn(org: string, project: string, svc: string): Promise<string> {
  const base = `/api/v1/orgs/${org}/projects/${project}/envs/production/services`;
  const created = await h.t.req("POST", base, { name: svc }, { key: h.key });
  expect(created.status).toBe(201);
  const built = await h.t.req("POST", `${base}/${svc}/images/build`, undefined, {
    key: h.key,
    raw: (await contextTar(fixtureFiles())) as unknown as BodyInit,
    headers: { "content-type": "application/x-tar" },
  });
  expect(built.status).toBe(201);
  expect((await waitForJob(h.t.deps, built.body.job_id, 120_000)).status).toBe("complete");
  const release = await h.release(created.body.id);
  const d = await h.deploy(release.release_id);
  expect(d.error_detail).toBeNull();
  expect(d.status).toBe("complete");
  return created.body.id;
}

const projectId = async (org: string, project: string): Promise<string> => {
  const r = await h.t.req("GET", `/api/v1/orgs/${org}/projects/${project}`, undefined, { key: h.key });
  expect(r.status).toBe(200);
  return r.body.id;
};

test("two tenants whose slugs spell the same old network name both deploy and serve, each on its own network", async () => {
  expect(`ancla-${otherOrg}-${otherProject}`).toBe(`ancla-${h.org}-web`);
  expect((await h.t.req("POST", "/api/v1/organizations", { name: otherOrg, slug: otherOrg }, { key: h.key })).status).toBe(201);
  expect((await h.t.req("POST", `/api/v1/orgs/${otherOrg}/projects`, { name: "Other", slug: otherProject }, { key: h.key })).status).toBe(201);

  const first = await deployIn(h.org, "web", "app");
  const second = await deployIn(otherOrg, otherProject, "app");

  expect((await h.get(h.host("app"))).text).toContain("hello from the webapp");
  expect((await h.get(`app.production.${otherProject}.${otherOrg}.${h.t.deps.config.domain}`)).text).toContain("hello from the webapp");
  expect(await networksOf(first)).toEqual([`ancla-net-${await projectId(h.org, "web")}`]);
  expect(await networksOf(second)).toEqual([`ancla-net-${await projectId(otherOrg, otherProject)}`]);
  // nobody got the old shared name
  expect(await testDocker().listNetworks({ filters: { name: [`ancla-${h.org}-web`] } })).toEqual([]);
});

test("a project whose network exists under the old name with its labels keeps deploying onto it (and its runs join it)", async () => {
  const docker = testDocker();
  expect((await h.t.req("POST", `/api/v1/orgs/${h.org}/projects`, { name: "Legacy", slug: "legacy" }, { key: h.key })).status).toBe(201);
  // as the old code made it
  const legacy = `ancla-${h.org}-legacy`;
  await docker.createNetwork({
    Name: legacy,
    Driver: "bridge",
    CheckDuplicate: true,
    Labels: { ...RUN_LABELS, "dev.ancla.managed": "true", "dev.ancla.org": h.org, "dev.ancla.project": "legacy" },
  } as never);

  const svc = await deployIn(h.org, "legacy", "app");
  expect(await networksOf(svc)).toEqual([legacy]);
  const id = await projectId(h.org, "legacy");
  expect(await docker.listNetworks({ filters: { name: [`ancla-net-${id}`] } })).toEqual([]);
  expect((await h.get(`app.production.legacy.${h.org}.${h.t.deps.config.domain}`)).text).toContain("hello from the webapp");

  // a one-off run of the same project lands on the same network: it reaches the replica's address there
  // (separate bridge networks do not reach each other)
  const [replica] = await docker.listContainers({ filters: { label: [`dev.ancla.service-id=${svc}`, "dev.ancla.process=web"] } });
  const ip = replica!.NetworkSettings.Networks[legacy]!.IPAddress;
  const run = await h.t.req("POST", `/api/v1/orgs/${h.org}/projects/legacy/envs/production/services/app/runs`, { command: `printf 'GET / HTTP/1.0\\r\\n\\r\\n' | nc -w 10 ${ip} "$PORT"` }, { key: h.key });
  expect(run.status).toBe(201);
  let detail: any;
  for (const deadline = Date.now() + 120_000; Date.now() < deadline; await Bun.sleep(200)) {
    detail = (await h.t.req("GET", `/api/v1/orgs/${h.org}/projects/legacy/envs/production/services/app/runs/${run.body.id}`, undefined, { key: h.key })).body;
    if (detail.status !== "running") break;
  }
  expect(detail).toMatchObject({ status: "succeeded", exit_code: 0 });
  expect(detail.output).toContain("hello from the webapp");
  // a second deploy stays there too
  const again = await h.deploy((await h.release(svc)).release_id);
  expect(again.status).toBe("complete");
  expect(await networksOf(svc)).toEqual([legacy]);
});

test("deleting a project removes what ran of it: its replicas, and then its network (the engine has few address pools)", async () => {
  expect((await h.t.req("POST", `/api/v1/orgs/${h.org}/projects`, { name: "Gone", slug: "gone" }, { key: h.key })).status).toBe(201);
  const id = await projectId(h.org, "gone");
  const serviceId = await deployIn(h.org, "gone", "app");
  expect(await networksOf(serviceId)).toEqual([`ancla-net-${id}`]);

  expect((await h.t.req("DELETE", `/api/v1/orgs/${h.org}/projects/gone`, undefined, { key: h.key })).status).toBe(200);
  // the teardown runs in the background: wait until the engine lists nothing of it
  const docker = testDocker();
  const left = async () => ({
    containers: (await docker.listContainers({ all: true, filters: { label: [`dev.ancla.service-id=${serviceId}`] } })).length,
    networks: (await docker.listNetworks({ filters: { name: [`ancla-net-${id}`] } })).length,
  });
  const deadline = Date.now() + 120_000;
  let now = await left();
  while ((now.containers || now.networks) && Date.now() < deadline) {
    await Bun.sleep(250);
    now = await left();
  }
  expect(now).toEqual({ containers: 0, networks: 0 });
  // the other project's network is untouched
  expect((await docker.listNetworks({ filters: { name: [`ancla-net-${await projectId(h.org, "web")}`] } })).length).toBe(1);
});
