// GitHub webhooks (issue 13): signature checks per project, push → pipeline at exactly the pushed
// commit, deliveries recorded and listed per project, duplicates ignored, redelivery; with the
// payload shapes GitHub documents (test/support/github.ts). No git server is contacted here: the
// pipelines stay queued (test/integration/github-push.test.ts builds and deploys one).
import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { orgsWorld, testApp, type OrgsWorld, type TestApp } from "../support/app";
import { delivery, pingPayload, pullRequestPayload, pushPayload, repository } from "../support/github";
import { referenceProblems } from "../support/reference-schema";

setDefaultTimeout(180_000);

const SERVER_SECRET = "server-webhook-secret-0123456789";
const REPO_URL = "http://127.0.0.1:9/octocat/hello-world.git";
const repo = repository("octocat/Hello-World", REPO_URL);
const SHA1 = "6dcb09b5b57875f334f61aebed695e2e4193db5e";
const SHA2 = "7dcb09b5b57875f334f61aebed695e2e4193db5f";
const HOOK = "/api/v1/integrations/github/hooks";

let t: TestApp;
let w: OrgsWorld;
let acmeSvc: string;
let otherSecret: string;

async function post(event: string, payload: unknown, secret: string | null, id?: string) {
  const d = delivery(event, payload, secret, id);
  const r = await t.req("POST", HOOK, undefined, { raw: d.body, headers: d.headers });
  return { ...r, deliveryId: d.deliveryId };
}
const pipelines = () => t.deps.sqlite.query("select j.id, j.service_id, i.build_ref from jobs j join images i on i.id = json_extract(j.payload, '$.imageId') where j.kind = 'pipeline' order by j.created_at").all() as { id: string; service_id: string; build_ref: string }[];
const deliveries = async (org = "acme", key = w.owner.key) => (await t.req("GET", `/api/v1/orgs/${org}/projects/web/webhooks/deliveries`, undefined, { key })).body.items as any[];

async function gitService(org: string, key: string, name: string, fields: Record<string, unknown>) {
  const r = await t.req("POST", `/api/v1/orgs/${org}/projects/web/envs/production/services`, { name, git_url: REPO_URL, ...fields }, { key });
  expect(r.status).toBe(201);
  return r.body.id as string;
}

beforeEach(async () => {
  t = await testApp({ githubWebhookSecret: SERVER_SECRET, gitAllowHosts: "127.0.0.0/8" });
  w = await orgsWorld(t, { project: true, otherProject: true });
  acmeSvc = await gitService("acme", w.owner.key, "api", { auto_deploy_branch: "main" });
  await gitService("other", w.outsider.key, "site", { auto_deploy_branch: "main" });
  const s = await t.req("POST", "/api/v1/orgs/other/projects/web/webhooks/secret", {}, { key: w.outsider.key });
  expect(s.status).toBe(200);
  otherSecret = s.body.secret;
});
afterEach(() => t.close());

describe("signatures", () => {
  test("missing or wrong signature → 401 and nothing is triggered; the refusal is visible to the project", async () => {
    const missing = await post("push", pushPayload(repo, "refs/heads/main", SHA2, SHA1), null);
    expect(missing.status).toBe(401);
    expect(missing.body.message).toContain("X-Hub-Signature-256");
    const wrong = await post("push", pushPayload(repo, "refs/heads/main", SHA2, SHA1), "not-the-secret-at-all");
    expect(wrong.status).toBe(401);
    expect(wrong.body).toEqual({ status: 401, message: "The webhook signature does not match." });
    expect(pipelines()).toEqual([]);
    const listed = await deliveries();
    expect(listed.map((d) => [d.status, d.delivery_id, d.pipeline_ids])).toEqual([["refused", wrong.deliveryId, []]]);
    expect(listed[0].message).toContain("Signature does not match");
  });

  test("a signature over other bytes does not verify (the body is what is signed)", async () => {
    const d = delivery("push", pushPayload(repo, "refs/heads/main", SHA2, SHA1), SERVER_SECRET);
    const tampered = d.body.replace(SHA1, SHA2);
    const r = await t.req("POST", HOOK, undefined, { raw: tampered, headers: d.headers });
    expect(r.status).toBe(401);
    expect(pipelines()).toEqual([]);
  });

  test("a project's own secret deploys only that project; the server secret deploys every project using the repository", async () => {
    const own = await post("push", pushPayload(repo, "refs/heads/main", SHA2, SHA1), otherSecret);
    expect(own.status).toBe(201);
    expect(own.body).toEqual({ ok: true, hook_id: own.deliveryId });
    const after = pipelines();
    expect(after.length).toBe(1);
    expect(after[0]!.service_id).not.toBe(acmeSvc);
    expect(await deliveries()).toEqual([]); // acme's project never learns of it
    expect((await deliveries("other", w.outsider.key)).map((d) => d.status)).toEqual(["accepted"]);

    const server = await post("push", pushPayload(repo, "refs/heads/main", SHA1, SHA2), SERVER_SECRET);
    expect(server.status).toBe(201);
    expect(pipelines().length).toBe(3);
  });

  test("the webhook secret is sealed at rest, shown once, never listed, and only org admins may set it", async () => {
    const row = t.deps.sqlite.query("select webhook_secret from project_integrations").get() as { webhook_secret: string };
    expect(row.webhook_secret.startsWith("enc:v1:")).toBe(true);
    expect(row.webhook_secret).not.toContain(otherSecret);
    const settings = await t.req("GET", "/api/v1/orgs/other/projects/web/webhooks", undefined, { key: w.outsider.key });
    expect(settings.body).toEqual({ url: expect.stringContaining(HOOK), content_type: "application/json", events: ["push", "pull_request"], project_secret_set: true, server_secret_set: true });
    expect((await t.req("POST", "/api/v1/orgs/acme/projects/web/webhooks/secret", {}, { key: w.member.key })).status).toBe(403);
    expect((await t.req("GET", "/api/v1/orgs/other/projects/web/webhooks", undefined, { key: w.owner.key })).status).toBe(404);
    expect((await t.req("POST", "/api/v1/orgs/acme/projects/web/webhooks/secret", { secret: "short" }, { key: w.owner.key })).status).toBe(422);
    const chosen = await t.req("POST", "/api/v1/orgs/acme/projects/web/webhooks/secret", { secret: "acme-chosen-secret-value" }, { key: w.owner.key });
    expect(chosen.body.secret).toBe("acme-chosen-secret-value");
    expect((await post("ping", pingPayload(repo), "acme-chosen-secret-value")).status).toBe(201);
    expect((await t.req("DELETE", "/api/v1/orgs/acme/projects/web/webhooks/secret", undefined, { key: w.owner.key })).body.project_secret_set).toBe(false);
    for (const body of t.bodies.slice(0, -3)) if (!body.includes('"secret"')) expect(body).not.toContain(otherSecret);
  });
});

describe("events", () => {
  test("ping → ok and recorded", async () => {
    const r = await post("ping", pingPayload(repo), SERVER_SECRET);
    expect(r.status).toBe(201);
    expect(r.body).toEqual({ ok: true, hook_id: r.deliveryId });
    expect(referenceProblems("WebhookResponse", r.body)).toEqual([]);
    expect((await deliveries()).map((d) => [d.event, d.status])).toEqual([["ping", "accepted"]]);
  });

  test("push to the service's branch → a pipeline building exactly the pushed commit, recorded with its id", async () => {
    const r = await post("push", pushPayload(repo, "refs/heads/main", SHA2, SHA1), SERVER_SECRET);
    expect(r.status).toBe(201);
    const acme = pipelines().filter((p) => p.service_id === acmeSvc);
    expect(acme.map((p) => p.build_ref)).toEqual([SHA1]);
    const [d] = await deliveries();
    expect(d).toMatchObject({ delivery_id: r.deliveryId, event: "push", repository: "octocat/hello-world", ref: "refs/heads/main", commit_sha: SHA1, status: "accepted", pipeline_ids: [acme[0]!.id] });
    const images = await t.req("GET", `/api/v1/images/${acmeSvc}`, undefined, { key: w.member.key });
    const detail = await t.req("GET", `/api/v1/images/${images.body.items[0].id}/detail`, undefined, { key: w.member.key });
    expect(detail.body.build_ref).toBe(SHA1);
  });

  test("the same delivery id again (a retry or a replay) is ignored", async () => {
    const first = await post("push", pushPayload(repo, "refs/heads/main", SHA2, SHA1), SERVER_SECRET);
    const again = await post("push", pushPayload(repo, "refs/heads/main", SHA2, SHA1), SERVER_SECRET, first.deliveryId);
    expect(again.status).toBe(201);
    expect(pipelines().filter((p) => p.service_id === acmeSvc).length).toBe(1);
    expect((await deliveries()).length).toBe(1);
  });

  test("the same push body under a new delivery id (a captured body replayed) is recorded as a duplicate and deploys nothing", async () => {
    const body = pushPayload(repo, "refs/heads/main", SHA2, SHA1);
    const first = await post("push", body, SERVER_SECRET);
    const replay = await post("push", body, SERVER_SECRET);
    expect(replay.status).toBe(201);
    expect(replay.deliveryId).not.toBe(first.deliveryId);
    expect(pipelines().filter((p) => p.service_id === acmeSvc).length).toBe(1);
    const [latest] = await deliveries();
    expect(latest).toMatchObject({ delivery_id: replay.deliveryId, status: "ignored", pipeline_ids: [] });
    expect(latest.message).toContain(`Duplicate of delivery ${first.deliveryId}`);
    // real pushes back and forth (main at SHA2 again, then SHA1 again: the same before/after as the
    // first push, a later push time) still deploy
    const pushedAt = (payload: ReturnType<typeof pushPayload>, at: number) => ({ ...payload, repository: { ...payload.repository, pushed_at: at } });
    await post("push", pushedAt(pushPayload(repo, "refs/heads/main", SHA1, SHA2), 1700000100), SERVER_SECRET);
    expect((await post("push", pushedAt(pushPayload(repo, "refs/heads/main", SHA2, SHA1), 1700000200), SERVER_SECRET)).status).toBe(201);
    expect(pipelines().filter((p) => p.service_id === acmeSvc).map((p) => p.build_ref)).toEqual([SHA1, SHA2, SHA1]);
    // and the first body replayed once more is still a duplicate
    await post("push", body, SERVER_SECRET);
    expect(pipelines().filter((p) => p.service_id === acmeSvc).length).toBe(3);
  });

  test("a refused delivery does not burn its id: the genuine delivery with that id still deploys", async () => {
    const forged = await post("push", pushPayload(repo, "refs/heads/main", SHA2, SHA1), "guessed-secret-value");
    expect(forged.status).toBe(401);
    const real = await post("push", pushPayload(repo, "refs/heads/main", SHA2, SHA1), SERVER_SECRET, forged.deliveryId);
    expect(real.status).toBe(201);
    expect(pipelines().filter((p) => p.service_id === acmeSvc).length).toBe(1);
  });

  test("another branch, a deleted branch, a tag and an unused event are recorded as ignored; an unknown repository is not recorded", async () => {
    await post("push", pushPayload(repo, "refs/heads/feature", SHA2, SHA1), SERVER_SECRET);
    await post("push", pushPayload(repo, "refs/heads/main", SHA1, "0".repeat(40), { deleted: true }), SERVER_SECRET);
    await post("push", pushPayload(repo, "refs/tags/v1.0.0", SHA2, SHA1), SERVER_SECRET);
    await post("issues", { action: "opened", issue: { number: 1 }, repository: repo, sender: { login: "octocat" } }, SERVER_SECRET);
    const unknown = await post("push", pushPayload(repository("someone/else", "https://github.com/someone/else.git"), "refs/heads/main", SHA2, SHA1), SERVER_SECRET);
    expect(unknown.status).toBe(201);
    expect(pipelines()).toEqual([]);
    const listed = await deliveries();
    expect(listed.map((d) => d.status)).toEqual(["ignored", "ignored", "ignored", "ignored"]);
    expect(listed.map((d) => d.message).reverse()).toEqual([
      "No service deploys branch 'feature' of this repository (auto_deploy_branch).",
      "Branch deleted: nothing to deploy.",
      "refs/tags/v1.0.0 is not a branch: nothing to deploy.",
      "Event 'issues' is not used by Ancla.",
    ]);
  });

  test("a service matches by github_repository too, and GitHub's form encoding is accepted", async () => {
    const r = await t.req("POST", "/api/v1/orgs/acme/projects/web/envs/production/services", { name: "gh", github_repository: "octocat/Hello-World", auto_deploy_branch: "release" }, { key: w.owner.key });
    expect(r.status).toBe(201);
    const body = "payload=" + encodeURIComponent(JSON.stringify(pushPayload(repository("octocat/Hello-World", "https://github.com/octocat/Hello-World.git"), "refs/heads/release", SHA2, SHA1)));
    const d = delivery("push", {}, SERVER_SECRET);
    const { sign } = await import("../support/github");
    const res = await t.req("POST", HOOK, undefined, { raw: body, headers: { ...d.headers, "content-type": "application/x-www-form-urlencoded", "x-hub-signature-256": sign(SERVER_SECRET, body) } });
    expect(res.status).toBe(201);
    expect(pipelines().map((p) => [p.service_id, p.build_ref])).toEqual([[r.body.id, SHA1]]);
  });

  test("pull_request on a project without previews is recorded as ignored", async () => {
    await post("pull_request", pullRequestPayload(repo, "opened", 7, SHA1), SERVER_SECRET);
    expect((await deliveries()).map((d) => [d.event, d.action, d.status])).toEqual([["pull_request", "opened", "ignored"]]);
    expect(pipelines()).toEqual([]);
  });
});

describe("pull request previews (queued, no Docker)", () => {
  const enable = () => t.req("PATCH", "/api/v1/orgs/acme/projects/web/previews", { enabled: true, ttl_hours: 24 }, { key: w.owner.key });

  test("only org admins change preview settings; a bad source environment is refused", async () => {
    expect((await t.req("PATCH", "/api/v1/orgs/acme/projects/web/previews", { enabled: true }, { key: w.member.key })).status).toBe(403);
    expect((await t.req("PATCH", "/api/v1/orgs/acme/projects/web/previews", { source_env: "nope" }, { key: w.owner.key })).status).toBe(404);
    expect((await t.req("PATCH", "/api/v1/orgs/acme/projects/web/previews", { ttl_hours: 0 }, { key: w.owner.key })).status).toBe(422);
    expect((await enable()).body).toMatchObject({ enabled: true, source_env: null, ttl_hours: 24, items: [] });
  });

  test("opened → environment pr-7 with a copy of the service (secrets still sealed) and a pipeline at the head commit", async () => {
    await enable();
    const set = await t.req("POST", "/api/v1/orgs/acme/projects/web/envs/production/services/api/config", { name: "API_TOKEN", value: "tok-123456789", secret: true }, { key: w.owner.key });
    expect(set.status).toBeLessThan(300);
    const r = await post("pull_request", pullRequestPayload(repo, "opened", 7, SHA1), SERVER_SECRET);
    expect(r.status).toBe(201);
    const env = await t.req("GET", "/api/v1/orgs/acme/projects/web/envs/pr-7", undefined, { key: w.member.key });
    expect(env.body).toMatchObject({ env_type: "preview", ephemeral: true, protected: false });
    const svc = await t.req("GET", "/api/v1/orgs/acme/projects/web/envs/pr-7/services/api", undefined, { key: w.member.key });
    expect(svc.status).toBe(200);
    expect(pipelines().filter((p) => p.service_id === svc.body.id).map((p) => p.build_ref)).toEqual([SHA1]);
    const copied = t.deps.sqlite.query("select value, secret from config_vars where scope_id = ?").all(svc.body.id) as { value: string; secret: number }[];
    expect(copied.length).toBe(1);
    expect(copied[0]!.value).toStartWith("enc:v1:");
    const listed = (await t.req("GET", "/api/v1/orgs/acme/projects/web/previews", undefined, { key: w.member.key })).body.items;
    expect(listed).toEqual([expect.objectContaining({ number: 7, env: "pr-7", status: "deploying", head_sha: SHA1, urls: [expect.stringContaining("api.pr-7.web.acme.")] })]);
    // a push to main does not deploy into the preview (its services follow the pull request only)
    await post("push", pushPayload(repo, "refs/heads/main", SHA1, SHA2), SERVER_SECRET);
    expect(pipelines().filter((p) => p.service_id === svc.body.id).length).toBe(1);
  });

  test("a replayed pull_request synchronize (same body, new delivery id) redeploys nothing; a real one at the same head later does", async () => {
    await enable();
    const at = (payload: ReturnType<typeof pullRequestPayload>, updated: string) => ((payload.pull_request as Record<string, unknown>).updated_at = updated, payload);
    await post("pull_request", at(pullRequestPayload(repo, "opened", 8, SHA1), "2026-12-01T10:00:00Z"), SERVER_SECRET);
    const sync = at(pullRequestPayload(repo, "synchronize", 8, SHA2), "2026-12-01T10:05:00Z");
    const first = await post("pull_request", sync, SERVER_SECRET);
    const svc = (await t.req("GET", "/api/v1/orgs/acme/projects/web/envs/pr-8/services/api", undefined, { key: w.member.key })).body.id;
    const builds = () => pipelines().filter((p) => p.service_id === svc).map((p) => p.build_ref);
    expect(builds()).toEqual([SHA1, SHA2]);
    const replay = await post("pull_request", sync, SERVER_SECRET);
    expect(replay.status).toBe(201);
    expect(builds()).toEqual([SHA1, SHA2]);
    const [latest] = await deliveries();
    expect(latest).toMatchObject({ delivery_id: replay.deliveryId, status: "ignored" });
    expect(latest.message).toContain(`Duplicate of delivery ${first.deliveryId}`);
    // force-pushed back and forth: a real event at a head seen before is newer (updated_at)
    await post("pull_request", at(pullRequestPayload(repo, "synchronize", 8, SHA1), "2026-12-01T10:10:00Z"), SERVER_SECRET);
    await post("pull_request", at(pullRequestPayload(repo, "synchronize", 8, SHA2), "2026-12-01T10:15:00Z"), SERVER_SECRET);
    expect(builds()).toEqual([SHA1, SHA2, SHA1, SHA2]);
  });

  test("a pull request from a fork gets no preview", async () => {
    await enable();
    const payload = pullRequestPayload(repo, "opened", 9, SHA1);
    payload.pull_request.head.repo = repository("mallory/Hello-World", "https://github.com/mallory/Hello-World.git");
    await post("pull_request", payload, SERVER_SECRET);
    expect((await deliveries())[0].message).toContain("comes from a fork");
    expect((await t.req("GET", "/api/v1/orgs/acme/projects/web/envs/pr-9", undefined, { key: w.member.key })).status).toBe(404);
    expect(pipelines()).toEqual([]);
  });

  test("a pull request whose head repository is unknown (a deleted fork: head.repo null) gets no preview either", async () => {
    await enable();
    const payload = pullRequestPayload(repo, "reopened", 10, SHA1);
    (payload.pull_request.head as { repo: unknown }).repo = null;
    await post("pull_request", payload, SERVER_SECRET);
    expect((await deliveries())[0].message).toContain("comes from a fork");
    expect((await t.req("GET", "/api/v1/orgs/acme/projects/web/envs/pr-10", undefined, { key: w.member.key })).status).toBe(404);
    expect(pipelines()).toEqual([]);
  });
});

describe("bad requests", () => {
  test("missing event or delivery headers → 400; a signed body that is not JSON → 400; oversize → 413", async () => {
    const d = delivery("push", pushPayload(repo, "refs/heads/main", SHA2, SHA1), SERVER_SECRET);
    const { "x-github-event": _e, ...noEvent } = d.headers;
    expect((await t.req("POST", HOOK, undefined, { raw: d.body, headers: noEvent })).status).toBe(400);
    expect((await t.req("POST", HOOK, undefined, { raw: d.body, headers: { ...d.headers, "x-github-delivery": "../../etc" } })).status).toBe(400);
    const { sign } = await import("../support/github");
    const junk = "{not json";
    expect((await t.req("POST", HOOK, undefined, { raw: junk, headers: { ...d.headers, "x-hub-signature-256": sign(SERVER_SECRET, junk) } })).status).toBe(400);
    const big = JSON.stringify({ pad: "x".repeat(1024 * 1024 + 10) });
    expect((await t.req("POST", HOOK, undefined, { raw: big, headers: { ...d.headers, "x-hub-signature-256": sign(SERVER_SECRET, big) } })).status).toBe(413);
    expect(pipelines()).toEqual([]);
  });
});

describe("redelivery", () => {
  test("a recorded push is replayed as the calling user; refused ones cannot be; other organizations get 404", async () => {
    await post("push", pushPayload(repo, "refs/heads/main", SHA2, SHA1), SERVER_SECRET);
    await post("push", pushPayload(repo, "refs/heads/main", SHA2, SHA2), "wrong-secret-value-x");
    const [refused, accepted] = await deliveries();
    expect([refused.status, accepted.status]).toEqual(["refused", "accepted"]);
    const again = await t.req("POST", `/api/v1/orgs/acme/projects/web/webhooks/deliveries/${accepted.id}/redeliver`, undefined, { key: w.member.key });
    expect(again.status).toBe(201);
    expect(again.body.delivery).toMatchObject({ status: "accepted", commit_sha: SHA1, redelivery_of: accepted.id });
    expect(pipelines().filter((p) => p.service_id === acmeSvc).map((p) => p.build_ref)).toEqual([SHA1, SHA1]);
    expect((await t.req("POST", `/api/v1/orgs/acme/projects/web/webhooks/deliveries/${refused.id}/redeliver`, undefined, { key: w.member.key })).status).toBe(409);
    expect((await t.req("POST", `/api/v1/orgs/acme/projects/web/webhooks/deliveries/${accepted.id}/redeliver`, undefined, { key: w.outsider.key })).status).toBe(404);
    expect((await t.req("GET", `/api/v1/orgs/acme/projects/web/webhooks/deliveries`)).status).toBe(401);
  });
});
