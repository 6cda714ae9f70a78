// Pull request previews on the real Docker engine (issue 13): a signed pull_request "opened" makes
// environment pr-<n> cloned from production (env config and secrets, still sealed), built from the
// PR head and reachable through the router; "synchronize" redeploys the new head; "closed" removes
// containers, images and rows; the TTL sweeper (injected clock) removes idle previews. Commit
// statuses go to a small fake of GitHub's statuses API on 127.0.0.1.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import type { Server } from "bun";
import { deployHarness, fixtureFiles, type DeployHarness } from "../fixtures/webapp/support";
import { delivery, pullRequestPayload, repository } from "../support/github";
import { startGitHttp, type GitHttpRepo } from "../support/git-http";
import { testDocker } from "../support/docker";
import { waitForJob } from "../../src/jobs/queue";
import { removePreview, sweepPreviews } from "../../src/modules/integrations/previews";

setDefaultTimeout(300_000);

const SECRET = "preview-hook-secret-0123456789";
const TOKEN = "ghp_" + "t".repeat(36);
const API_TOKEN = "preview-secret-" + crypto.randomUUID();
let h: DeployHarness;
let repo: GitHttpRepo;
let github: Server<unknown>;
const statuses: { path: string; auth: string | null; body: any }[] = [];
const envOf = (text: string, name: string) => new RegExp(`^${name}=(.*)$`, "m").exec(text)?.[1];
const previewsPath = () => `/api/v1/orgs/${h.org}/projects/web/previews`;

beforeAll(async () => {
  // GitHub's POST /repos/{owner}/{repo}/statuses/{sha}: 201 with the created status
  github = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const url = new URL(req.url);
      if (req.method !== "POST" || !/^\/repos\/[^/]+\/[^/]+\/statuses\/[0-9a-f]{40}$/.test(url.pathname)) return Response.json({ message: "Not Found" }, { status: 404 });
      if (req.headers.get("authorization") !== `Bearer ${TOKEN}`) return Response.json({ message: "Bad credentials" }, { status: 401 });
      const body = await req.json();
      statuses.push({ path: url.pathname, auth: req.headers.get("authorization"), body });
      return Response.json({ id: statuses.length, state: body.state, target_url: body.target_url ?? null, description: body.description, context: body.context }, { status: 201 });
    },
  });
  repo = startGitHttp("site");
  repo.commit({ ...fixtureFiles(), "www/version.txt": "main\n" }, { message: "main" });
  h = await deployHarness("prv", { gitAllowHosts: "127.0.0.0/8", githubWebhookSecret: SECRET, githubToken: TOKEN, githubApiUrl: `http://127.0.0.1:${github.port}` });
  await h.service("app", { git_url: repo.url, auto_deploy_branch: "main", process_counts: { web: 1 }, deployment_timeout: 60 });
  expect((await h.t.req("POST", `/api/v1/orgs/${h.org}/projects/web/envs/production/config`, { name: "GREETING", value: "hello" }, { key: h.key })).status).toBeLessThan(300);
  await h.setVar("app", "API_TOKEN", API_TOKEN, true);
  const s = await h.t.req("PATCH", previewsPath(), { enabled: true, ttl_hours: 1 }, { key: h.key });
  expect(s.body).toMatchObject({ enabled: true, source_env: null, ttl_hours: 1, items: [] });
});
afterAll(async () => {
  await h?.close();
  repo?.stop();
  github?.stop(true);
});

async function pr(action: string, number: number, sha: string) {
  const d = delivery("pull_request", pullRequestPayload(repository("acme/site", repo.url), action, number, sha), SECRET);
  const r = await h.t.req("POST", "/api/v1/integrations/github/hooks", undefined, { raw: d.body, headers: d.headers });
  expect(r.status).toBe(201);
  const rec = (await h.t.req("GET", `/api/v1/orgs/${h.org}/projects/web/webhooks/deliveries`, undefined, { key: h.key })).body.items.find((i: { delivery_id: string }) => i.delivery_id === d.deliveryId);
  expect(rec.status).toBe("accepted");
  for (const id of rec.pipeline_ids) expect((await waitForJob(h.t.deps, id, 280_000)).status).toBe("complete");
  return rec;
}
const previews = async () => (await h.t.req("GET", previewsPath(), undefined, { key: h.key })).body.items as any[];
const host = (n: number) => `app.pr-${n}.web.${h.org}.${h.t.deps.config.domain}`;

describe("previews", () => {
  let serviceId: string;

  test("opened → pr-7 cloned from production, built from the head, reachable through the router; GitHub gets pending then success", async () => {
    const sha = repo.commit({ "www/version.txt": "pr-one\n" }, { branch: "feature", message: "pr one" });
    const rec = await pr("opened", 7, sha);
    expect(rec.message).toContain("Creating preview pr-7");
    expect((await h.get(host(7), "/version.txt")).text).toBe("pr-one\n");
    const env = (await h.get(host(7), "/cgi-bin/env")).text;
    expect(envOf(env, "GREETING")).toBe("hello");
    expect(envOf(env, "API_TOKEN")).toBe(API_TOKEN);
    const svc = await h.t.req("GET", `/api/v1/orgs/${h.org}/projects/web/envs/pr-7/services/app`, undefined, { key: h.key });
    serviceId = svc.body.id;
    const sealed = h.t.deps.sqlite.query("select value from config_vars where scope = 'service' and scope_id = ?").all(serviceId) as { value: string }[];
    expect(sealed.map((v) => v.value.startsWith("enc:v1:"))).toEqual([true]);
    await sweepPreviews(h.t.deps);
    const [p] = await previews();
    expect(p).toMatchObject({ number: 7, env: "pr-7", status: "ready", error: null, head_sha: sha, urls: [`http://${host(7)}`] });
    expect(statuses.map((s) => [s.path, s.body.state])).toEqual([
      [`/repos/acme/site/statuses/${sha}`, "pending"],
      [`/repos/acme/site/statuses/${sha}`, "success"],
    ]);
    expect(statuses[1]!.body).toMatchObject({ context: "ancla/preview", target_url: `http://${host(7)}` });
  });

  test("synchronize → the new head is deployed in the same environment", async () => {
    const sha = repo.commit({ "www/version.txt": "pr-two\n" }, { branch: "feature", message: "pr two" });
    const rec = await pr("synchronize", 7, sha);
    expect(rec.message).toContain("Redeploying preview pr-7");
    expect((await h.get(host(7), "/version.txt")).text).toBe("pr-two\n");
    expect((await h.t.req("GET", `/api/v1/orgs/${h.org}/projects/web/envs/pr-7/services/app`, undefined, { key: h.key })).body.id).toBe(serviceId);
  });

  test("closed → containers, images, routes and rows are gone", async () => {
    const before = (await previews())[0];
    await pr("closed", 7, before.head_sha);
    const envId = (h.t.deps.sqlite.query("select env_id from preview_environments").get() as { env_id: string } | null)?.env_id;
    if (envId) await removePreview(h.t.deps, envId); // joins the removal the delivery started
    expect(await previews()).toEqual([]);
    expect((await h.t.req("GET", `/api/v1/orgs/${h.org}/projects/web/envs/pr-7`, undefined, { key: h.key })).status).toBe(404);
    expect((await h.get(host(7), "/version.txt")).status).toBe(404);
    const docker = testDocker();
    expect(await docker.listContainers({ all: true, filters: { label: [`dev.ancla.service=${serviceId}`] } })).toEqual([]);
    expect(await docker.listImages({ filters: { reference: [`ancla/${h.org}/web/pr-7/app`] } })).toEqual([]);
    for (const table of ["services", "images", "releases"]) {
      expect(h.t.deps.sqlite.query(`select count(*) as n from ${table} where ${table === "services" ? "id" : "service_id"} = ?`).get(serviceId)).toEqual({ n: 0 });
    }
    expect(h.t.deps.sqlite.query("select count(*) as n from config_vars where scope_id = ?").get(serviceId)).toEqual({ n: 0 });
  });

  test("closed while its pipeline still runs: the removal waits for it, and nothing is left behind", async () => {
    const sha = repo.commit({ "www/version.txt": "pr-nine\n" }, { branch: "feature", message: "pr nine" });
    const open = delivery("pull_request", pullRequestPayload(repository("acme/site", repo.url), "opened", 9, sha), SECRET);
    expect((await h.t.req("POST", "/api/v1/integrations/github/hooks", undefined, { raw: open.body, headers: open.headers })).status).toBe(201);
    const svc = (await h.t.req("GET", `/api/v1/orgs/${h.org}/projects/web/envs/pr-9/services/app`, undefined, { key: h.key })).body.id as string;
    const close = delivery("pull_request", pullRequestPayload(repository("acme/site", repo.url), "closed", 9, sha), SECRET);
    expect((await h.t.req("POST", "/api/v1/integrations/github/hooks", undefined, { raw: close.body, headers: close.headers })).status).toBe(201);
    const envId = (h.t.deps.sqlite.query("select env_id from preview_environments where number = 9").get() as { env_id: string } | null)?.env_id;
    if (envId) await removePreview(h.t.deps, envId);
    expect(await previews()).toEqual([]);
    const docker = testDocker();
    expect(await docker.listContainers({ all: true, filters: { label: [`dev.ancla.service=${svc}`] } })).toEqual([]);
    expect(await docker.listImages({ filters: { reference: [`ancla/${h.org}/web/pr-9/app`] } })).toEqual([]);
    expect(h.t.deps.sqlite.query("select count(*) as n from jobs where service_id = ?").get(svc)).toEqual({ n: 0 });
  });

  test("the TTL sweeper removes a preview idle longer than ttl_hours (injected clock)", async () => {
    const sha = repo.commit({ "www/version.txt": "pr-eight\n" }, { branch: "feature", message: "pr eight" });
    await pr("opened", 8, sha);
    expect((await sweepPreviews(h.t.deps)).removed).toBe(0);
    expect((await previews()).map((p) => p.number)).toEqual([8]);
    const real = h.t.deps.clock;
    h.t.deps.clock = { now: () => new Date(real.now().getTime() + 61 * 60_000) };
    try {
      expect((await sweepPreviews(h.t.deps)).removed).toBe(1);
    } finally {
      h.t.deps.clock = real;
    }
    expect(await previews()).toEqual([]);
    expect((await h.get(host(8), "/version.txt")).status).toBe(404);
  });
});
