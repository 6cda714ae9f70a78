// git_url / github_repository through the API (issue 9): a non-admin cannot point a service at the
// server's own network or disk (422, nothing stored); server admins may use file://; the operator's
// --git-allow-hosts opens private hosts; and the build job checks again right before cloning.
import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { eq } from "drizzle-orm";
import { snapshotDb, testApp, type TestApp } from "../support/app";
import { services } from "../../src/db/schema";
import { waitForJob } from "../../src/jobs/queue";
import { startWorker } from "../../src/jobs/worker";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

let t: TestApp;
let member: string;
let admin: string;
const base = "/api/v1/orgs/acme/projects/web/envs/production/services";

async function setup(config: Record<string, unknown> = {}) {
  t = await testApp(config);
  const owner = await t.user("owner");
  member = (await t.user("member")).key;
  admin = (await t.user("root", { admin: true })).key;
  await t.req("POST", "/api/v1/organizations", { name: "Acme" }, { key: owner.key });
  await t.req("POST", "/api/v1/organizations/acme/members", { username: "member" }, { key: owner.key });
  await t.req("POST", "/api/v1/projects/acme", { name: "Web" }, { key: owner.key });
}
afterEach(() => t?.close());

const INSIDE = [
  "http://localhost:3000/acme/app.git",
  "http://127.0.0.1:3000/acme/app",
  "https://[::1]/x.git",
  "https://[::ffff:127.0.0.1]/x.git",
  "http://0x7f.1/x.git",
  "http://169.254.169.254/latest/meta-data",
  "http://10.1.2.3/x.git",
  "https://172.16.5.4/x.git",
  "https://192.168.1.10/x.git",
  "https://100.64.0.1/x.git",
  "git://0.0.0.0/x.git",
  "ssh://git@[fd00::1]/x.git",
  "git@localhost:acme/app.git",
];

describe("non-admins", () => {
  beforeEach(() => setup());

  test("loopback, link-local, private, CGNAT and unspecified hosts (after DNS) → 422 on create and patch, nothing stored", async () => {
    expect((await t.req("POST", base, { name: "api" }, { key: member })).status).toBe(201);
    const before = snapshotDb(t.deps);
    for (const git_url of INSIDE) {
      const created = await t.req("POST", base, { name: "x", git_url }, { key: member });
      expect([git_url, created.status]).toEqual([git_url, 422]);
      expect(created.body.message).toMatch(/^git_url: git host .* only public addresses are allowed/);
      expect(created.body.errors).toEqual([{ path: "git_url", message: expect.any(String) }]);
      const patched = await t.req("PATCH", `${base}/api`, { git_url }, { key: member });
      expect([git_url, patched.status]).toEqual([git_url, 422]);
      // the reference-family route goes through the same rule
      const app = await t.req("PATCH", "/api/v1/applications/acme/web/api", { git_url }, { key: member });
      expect([git_url, app.status]).toEqual([git_url, 422]);
    }
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("file:// and ext::/file:: transports → 422", async () => {
    for (const git_url of ["file:///srv/git/app.git", "file::/srv/git/app.git"]) {
      const r = await t.req("POST", base, { name: "x", git_url }, { key: member });
      expect([git_url, r.status]).toEqual([git_url, 422]);
    }
    expect((await t.req("POST", base, { name: "x", git_url: "file:///srv/git/app.git" }, { key: member })).body.message).toContain("only server administrators");
  });

  test("public hosts and github_repository are accepted (a name that does not resolve yet is checked again at clone time)", async () => {
    for (const [i, body] of [{ git_url: "https://140.82.121.3/acme/app.git" }, { git_url: "git@github.com:acme/app.git" }, { github_repository: "acme/app" }].entries()) {
      expect([body, (await t.req("POST", base, { name: `ok${i}`, ...body }, { key: member })).status]).toEqual([body, 201]);
    }
  });
});

describe("server admins and the --git-allow-hosts setting", () => {
  test("a server admin may use file:// (the server's disk) but private network hosts need the setting too", async () => {
    await setup();
    expect((await t.req("POST", base, { name: "local", git_url: "file:///srv/git/app.git" }, { key: admin })).status).toBe(201);
    const lan = await t.req("POST", base, { name: "lan", git_url: "http://10.1.2.3/x.git" }, { key: admin });
    expect(lan.status).toBe(422); // builds would be refused the same way: the clone cannot know who saved the URL
    expect(lan.body.message).toContain("--git-allow-hosts");
    expect((await t.req("POST", base, { name: "helper", git_url: "file::/srv/x" }, { key: admin })).status).toBe(422);
  });

  test("allowed CIDRs and names are accepted for everyone; others stay refused", async () => {
    await setup({ gitAllowHosts: "127.0.0.0/8, localhost,10.0.0.0/8" });
    for (const git_url of ["http://127.0.0.1:3000/acme/app", "http://localhost:3000/acme/app.git", "http://10.9.8.7/x.git"]) {
      expect([git_url, (await t.req("POST", base, { name: `a${git_url.length}`, git_url }, { key: member })).status]).toEqual([git_url, 201]);
    }
    expect((await t.req("POST", base, { name: "b", git_url: "http://192.168.1.1/x.git" }, { key: member })).status).toBe(422);
  });
});

describe("the build job checks again before cloning", () => {
  test("a git_url whose host now resolves to loopback fails the build with a clear message; git is never run", async () => {
    await setup();
    expect((await t.req("POST", base, { name: "api", git_url: "https://140.82.121.3/acme/app.git" }, { key: member })).status).toBe(201);
    // what a DNS change after saving amounts to: the stored name now points at the server itself
    t.deps.db.update(services).set({ gitUrl: "http://localhost:9/acme/app.git" }).where(eq(services.slug, "api")).run();
    const worker = await startWorker(t.deps);
    try {
      const r = await t.req("POST", `${base}/api/images/build`, undefined, { key: member });
      expect(r.status).toBe(201);
      expect((await waitForJob(t.deps, r.body.job_id, 30_000)).status).toBe("error");
      const d = (await t.req("GET", `/api/v1/images/${r.body.image_id}/detail`, undefined, { key: member })).body;
      expect(d.error_detail).toMatch(/^Refused to clone http:\/\/localhost:9\/acme\/app\.git: git host 'localhost' resolves to (127\.0\.0\.1|::1) \(loopback\)/);
      const log = (await t.req("GET", `/api/v1/images/${r.body.image_id}/log`, undefined, { key: member })).body.log_text;
      expect(log).not.toContain("cloning"); // refused before git started
      expect(d.commit_sha).toBeNull();
    } finally {
      await worker.stop();
    }
  });
});
