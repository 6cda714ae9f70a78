// The integrations commands against a live `ancla serve` (issue 13): `ancla webhooks show|secret|
// deliveries` after real signed and unsigned deliveries, `ancla deploy-key create|show` (public
// half only) and `ancla previews list`; the server's output never shows the webhook secret.
import { afterAll, beforeAll, expect, test, setDefaultTimeout } from "bun:test";
import { Database } from "bun:sqlite";
import { join } from "node:path";
import { ancla, startLiveServer, type LiveServer } from "../support/server";
import { delivery, pushPayload, repository } from "../support/github";

setDefaultTimeout(300_000);

const SECRET = "cli-webhook-secret-" + crypto.randomUUID();
let s: LiveServer;
const cli = (args: string[]) => ancla(args, { home: s.home, env: { ANCLA_SERVER: s.url, ANCLA_API_KEY: s.adminKey } });
const SHA = "6dcb09b5b57875f334f61aebed695e2e4193db5e";

beforeAll(async () => {
  // the repository is never cloned here: nothing listens on port 9, so the pipeline's build fails
  s = await startLiveServer({ args: ["--github-webhook-secret", SECRET, "--git-allow-hosts", "127.0.0.0/8"] });
  const post = async (path: string, body: unknown) => {
    const r = await fetch(s.url + path, { method: "POST", headers: { "x-api-key": s.adminKey, "content-type": "application/json" }, body: JSON.stringify(body) });
    expect([path, r.status]).toEqual([path, 201]);
  };
  await post("/api/v1/organizations", { name: "Acme" });
  await post("/api/v1/projects/acme", { name: "Web" });
  await post("/api/v1/orgs/acme/projects/web/envs/production/services", { name: "api", git_url: "http://127.0.0.1:9/octocat/site.git", auto_deploy_branch: "main" });
  const repo = repository("octocat/site", "http://127.0.0.1:9/octocat/site.git");
  for (const secret of [SECRET, "a-wrong-secret-value"]) {
    const d = delivery("push", pushPayload(repo, "refs/heads/main", "0".repeat(39) + "1", SHA), secret);
    const r = await fetch(`${s.url}/api/v1/integrations/github/hooks`, { method: "POST", headers: d.headers, body: d.body });
    expect(r.status).toBe(secret === SECRET ? 201 : 401);
  }
});
afterAll(async () => {
  await s?.stop();
});

test("webhooks deliveries lists what each delivery did, as a table and as JSON", async () => {
  const table = await cli(["webhooks", "deliveries", "acme/web"]);
  expect(table.code).toBe(0);
  expect(table.stdout).toMatch(/EVENT\s+REF\s+COMMIT\s+STATUS/);
  expect(table.stdout).toContain("refused");
  expect(table.stdout).toContain("Deploying 6dcb09b5b578 of 'main' to production/api.");
  const json = await cli(["webhooks", "deliveries", "acme/web", "--json"]);
  expect(json.json().map((d: { status: string; commit_sha: string }) => [d.status, d.commit_sha])).toEqual([
    ["refused", SHA],
    ["accepted", SHA],
  ]);
});

test("webhooks show and secret: the URL to paste, and a project secret shown once", async () => {
  const show = await cli(["webhooks", "show", "acme/web"]);
  expect(show.stdout).toContain(`Payload URL:  ${s.url}/api/v1/integrations/github/hooks`);
  expect(show.stdout).toContain("the server's --github-webhook-secret");
  const secret = await cli(["webhooks", "secret", "acme/web", "--json"]);
  expect(secret.code).toBe(0);
  const value = secret.json().secret as string;
  expect(value).toMatch(/^[A-Za-z0-9]{40}$/);
  expect((await cli(["webhooks", "show", "acme/web"])).stdout).not.toContain(value);
  expect(s.output()).not.toContain(value);
  expect(s.output()).not.toContain(SECRET);
});

test("deploy-key create prints the public key only; previews list works on a project without previews", async () => {
  const created = await cli(["deploy-key", "create", "acme/web/production/api"]);
  expect(created.code).toBe(0);
  expect(created.stdout).toMatch(/^ssh-ed25519 AAAA\S+ ancla-deploy-key acme\/web\/production\/api$/m);
  expect(created.stdout + created.stderr).not.toContain("PRIVATE KEY");
  expect((await cli(["deploy-key", "show", "acme/web/production/api"])).stdout).toContain("Host key: pinned at the next SSH clone.");
  const previews = await cli(["previews", "list", "acme/web"]);
  expect(previews.code).toBe(0);
  expect(previews.stdout.trim()).toBe("(none)");
});

test("ancla serve makes the registry signing key at start (stored sealed), before any docker login", async () => {
  const db = new Database(join(s.dataDir, "ancla.db"), { readonly: true });
  try {
    let row: { private_key: string } | null = null;
    for (let i = 0; i < 100 && !row; i++) {
      row = db.query("select private_key from registry_signing_keys").get() as { private_key: string } | null;
      if (!row) await Bun.sleep(100);
    }
    expect(row?.private_key).toStartWith("enc:v1:");
  } finally {
    db.close();
  }
});
