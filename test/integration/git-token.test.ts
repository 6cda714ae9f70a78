// Private repositories over HTTPS-style auth (issue 13): a git server on 127.0.0.1 that answers
// 401 without the token; the service's stored token (sealed) lets the build clone, and the token
// shows up in no response, build log or image.
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { deployHarness, fixtureFiles, type DeployHarness } from "../fixtures/webapp/support";
import { startGitHttp, type GitHttpRepo } from "../support/git-http";
import { waitForJob } from "../../src/jobs/queue";

setDefaultTimeout(300_000);

const TOKEN = "ghp_" + crypto.randomUUID().replace(/-/g, "");
let h: DeployHarness;
let repo: GitHttpRepo;
let head: string;

beforeAll(async () => {
  repo = startGitHttp("private", { token: TOKEN });
  head = repo.commit(fixtureFiles(), { message: "app" });
  h = await deployHarness("tok", { gitAllowHosts: "127.0.0.0/8" });
  await h.service("app", { git_url: repo.url, build_ref: "main" });
});
afterAll(async () => {
  await h?.close();
  repo?.stop();
});

async function build() {
  const r = await h.t.req("POST", `${h.base()}/app/images/build`, undefined, { key: h.key });
  expect(r.status).toBe(201);
  await waitForJob(h.t.deps, r.body.job_id, 200_000).catch(() => undefined);
  const image = (await h.t.req("GET", `/api/v1/images/${r.body.image_id}/detail`, undefined, { key: h.key })).body;
  const log = (await h.t.req("GET", `/api/v1/images/${r.body.image_id}/log`, undefined, { key: h.key })).text;
  return { image, log };
}

test("without the token the clone fails; with it the exact commit is built; the token is never shown", async () => {
  const denied = await build();
  expect(denied.image.status).toBe("error");
  const set = await h.t.req("POST", `${h.base()}/app/git-token`, { token: TOKEN }, { key: h.key });
  expect(set.status).toBe(200);
  expect(set.body.https_token_set).toBe(true);
  const sealed = (h.t.deps.sqlite.query("select https_token from service_git_credentials").get() as { https_token: string }).https_token;
  expect(sealed).toStartWith("enc:v1:");
  const ok = await build();
  expect([ok.image.status, ok.image.error_detail]).toEqual(["complete", null]);
  expect(ok.image.commit_sha).toBe(head);
  expect(ok.log).toContain("using the service's HTTPS token");
  for (const body of h.t.bodies) expect(body).not.toContain(TOKEN);
  const inImage = Bun.spawnSync(["docker", "run", "--rm", `${ok.image.repository_name}:${ok.image.tag}`, "sh", "-c", `grep -rl '${TOKEN}' /www /root /tmp /etc 2>/dev/null; true`]);
  expect([inImage.exitCode, inImage.stdout.toString().trim()]).toEqual([0, ""]);
  expect((await h.t.req("DELETE", `${h.base()}/app/git-token`, undefined, { key: h.key })).body.https_token_set).toBe(false);
});
