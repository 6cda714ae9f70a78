// Push to deploy on the real Docker engine (issue 13): a signed GitHub push delivery builds exactly
// the pushed commit from a real git server on 127.0.0.1 (not the branch head), records the commit
// on the image and the release, and the router serves that commit's content.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { deployHarness, fixtureFiles, type DeployHarness } from "../fixtures/webapp/support";
import { delivery, pushPayload, repository } from "../support/github";
import { startGitHttp, type GitHttpRepo } from "../support/git-http";
import { waitForJob } from "../../src/jobs/queue";

setDefaultTimeout(300_000);

let h: DeployHarness;
let repo: GitHttpRepo;
let secret: string;
let serviceId: string;
const page = (v: string) => ({ "www/version.txt": `${v}\n` });

beforeAll(async () => {
  repo = startGitHttp("shop");
  repo.commit({ ...fixtureFiles(), ...page("one") }, { message: "first" });
  h = await deployHarness("ghp", { gitAllowHosts: "127.0.0.0/8" });
  serviceId = await h.service("app", { git_url: repo.url, auto_deploy_branch: "main", process_counts: { web: 1 }, deployment_timeout: 60 });
  const s = await h.t.req("POST", `/api/v1/orgs/${h.org}/projects/web/webhooks/secret`, {}, { key: h.key });
  expect(s.status).toBe(200);
  secret = s.body.secret;
});
afterAll(async () => {
  await h?.close();
  repo?.stop();
});

async function push(after: string, before = "0".repeat(39) + "1") {
  const d = delivery("push", pushPayload(repository("acme/shop", repo.url), "refs/heads/main", before, after), secret);
  const r = await h.t.req("POST", "/api/v1/integrations/github/hooks", undefined, { raw: d.body, headers: d.headers });
  expect(r.status).toBe(201);
  const items = (await h.t.req("GET", `/api/v1/orgs/${h.org}/projects/web/webhooks/deliveries`, undefined, { key: h.key })).body.items;
  const rec = items.find((i: { delivery_id: string }) => i.delivery_id === d.deliveryId);
  expect(rec).toMatchObject({ status: "accepted", commit_sha: after });
  expect(rec.pipeline_ids.length).toBe(1);
  const job = await waitForJob(h.t.deps, rec.pipeline_ids[0], 200_000);
  expect([job.status, job.error]).toEqual(["complete", null]);
  return rec;
}

describe("push to deploy", () => {
  test("a push deploys the pushed commit; image and release record it", async () => {
    const first = repo.commit(page("two"), { message: "second" });
    await push(first);
    expect((await h.get(h.host("app"), "/version.txt")).text).toBe("two\n");
    const images = (await h.t.req("GET", `/api/v1/images/${serviceId}`, undefined, { key: h.key })).body.items;
    const image = (await h.t.req("GET", `/api/v1/images/${images[0].id}/detail`, undefined, { key: h.key })).body;
    expect(image.commit_sha).toBe(first);
    const releases = (await h.t.req("GET", `/api/v1/releases/${serviceId}`, undefined, { key: h.key })).body;
    const latest = (releases.items ?? releases)[0];
    const detail = (await h.t.req("GET", `/api/v1/releases/${latest.id}/detail`, undefined, { key: h.key })).body;
    expect(detail.commit_sha).toBe(first);
  });

  test("the delivery's commit is built even when the branch has moved on since", async () => {
    const pushed = repo.commit(page("three"), { message: "third" });
    repo.commit(page("four"), { message: "fourth, not yet delivered" });
    await push(pushed);
    expect((await h.get(h.host("app"), "/version.txt")).text).toBe("three\n");
  });
});
