// Builds against the real Docker engine: upload, git (branch and commit), pre-built image,
// failures, Procfile, queue order, context safety, secrets and retention.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdtempSync, readdirSync, rmSync, writeFileSync, mkdirSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { snapshotDb, testApp, type TestApp } from "../support/app";
import { contextTar, ensureBaseImage, removeLabelled, RUN_ID, TEST_RUN_LABEL, testDocker, removeOrgResources, orgImageIds } from "../support/docker";
import { startWorker, type Worker } from "../../src/jobs/worker";
import { getJob, waitForJob } from "../../src/jobs/queue";
import { enqueueBuild } from "../../src/modules/images";
import { serviceAccessById } from "../../src/modules/services/access";
import { findUserByLogin } from "../../src/modules/auth/repo";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(300_000);

let t: TestApp;
let worker: Worker;
let key: string;
const ORG = `b${RUN_ID}`;
const P = `/api/v1/orgs/${ORG}/projects/web/envs/production/services`;
const ids: Record<string, string> = {};
const tmp = mkdtempSync(join(tmpdir(), "ancla-build-test-"));

async function service(name: string, fields: Record<string, unknown> = {}): Promise<string> {
  const r = await t.req("POST", P, { name, ...fields }, { key });
  expect(r.status).toBe(201);
  ids[name] = r.body.id;
  return r.body.id;
}

async function upload(path: string, body: Uint8Array, type = "application/x-tar") {
  return t.req("POST", path, undefined, { key, raw: body as BodyInit, headers: { "content-type": type } });
}

async function buildAndWait(svc: string, files: Parameters<typeof contextTar>[0]) {
  const r = await upload(`${P}/${svc}/images/build`, await contextTar(files));
  expect(r.status).toBe(201);
  const job = await waitForJob(t.deps, r.body.job_id, 120_000);
  const detail = await t.req("GET", `/api/v1/images/${r.body.image_id}/detail`, undefined, { key });
  const log = await t.req("GET", `/api/v1/images/${r.body.image_id}/log`, undefined, { key });
  return { res: r.body, job, detail: detail.body, log: log.body };
}

const containerExists = async (id: string) => testDocker().getContainer(id).inspect().then(() => true, () => false);
const imageExists = async (ref: string) => testDocker().getImage(ref).inspect().then(() => true, () => false);

beforeAll(async () => {
  await ensureBaseImage();
  t = await testApp();
  key = (await t.user("builder", { admin: true })).key; // admin: file:// repositories are server-admin only
  expect((await t.req("POST", "/api/v1/organizations", { name: "Build Org", slug: ORG }, { key })).status).toBe(201);
  expect((await t.req("POST", `/api/v1/orgs/${ORG}/projects`, { name: "Web", slug: "web" }, { key })).status).toBe(201);
  worker = await startWorker(t.deps);
});

afterAll(async () => {
  await worker?.stop();
  await removeOrgResources(ORG);
  await removeLabelled(`${TEST_RUN_LABEL}=${RUN_ID}`);
  // extra tags of the base image this run made (untag only: the base image stays)
  for (const ref of [`ancla-test/foreign-${RUN_ID}:keep`, `ancla-test/prebuilt-${RUN_ID}:1`]) await testDocker().getImage(ref).remove({ noprune: true }).catch(() => {});
  t?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("build from an upload", () => {
  test("tar body → image v1 with labels, tag, Dockerfile text, web process; log readable by both route families", async () => {
    const id = await service("front");
    const dockerfile = 'FROM ancla-test/busybox\nRUN echo "building step output"\nCMD ["httpd", "-f", "-p", "8000"]\n';
    const { res, job, detail, log } = await buildAndWait("front", { Dockerfile: dockerfile, "index.html": "hello" });
    expect(res).toMatchObject({ ok: true, version: 1 });
    expect(job.status).toBe("complete");
    expect(detail).toMatchObject({
      id: res.image_id,
      version: 1,
      application_id: id,
      repository_name: `ancla/${ORG}/web/production/front`,
      built: true,
      error: false,
      error_detail: null,
      dockerfile,
      procfile: null,
      processes: { web: null },
      source: "upload",
      tag: "v1",
    });
    expect(detail.image_id).toStartWith("sha256:");
    expect(detail.size_bytes).toBeGreaterThan(1_000_000);
    expect(detail.image_metadata.cmd).toEqual(["httpd", "-f", "-p", "8000"]);
    const inspected = await testDocker().getImage(`ancla/${ORG}/web/production/front:v1`).inspect();
    expect(inspected.Id).toBe(detail.image_id);
    expect(inspected.Config.Labels).toMatchObject({
      "dev.ancla.managed": "true",
      "dev.ancla.org": ORG,
      "dev.ancla.project": "web",
      "dev.ancla.env": "production",
      "dev.ancla.service": "front",
      "dev.ancla.version": "1",
    });
    expect(log.status).toBe("complete");
    expect(log.log_text).toMatch(/Step 2\/\d+ : RUN echo "building step output"/);
    expect(log.log_text).toContain("building step output");
    expect(log.build_step).toEqual({ name: "complete" });

    // hierarchical routes and both forms of {application_id}
    const byVersion = await t.req("GET", `${P}/front/images/1`, undefined, { key });
    expect(byVersion.body.id).toBe(res.image_id);
    expect((await t.req("GET", `${P}/front/images/1/log`, undefined, { key })).body.log_text).toBe(log.log_text);
    const list1 = await t.req("GET", `/api/v1/images/${id}`, undefined, { key });
    const list2 = await t.req("GET", `/api/v1/images/${ORG}/web/front/`, undefined, { key });
    const list3 = await t.req("GET", `${P}/front/images`, undefined, { key });
    for (const l of [list1, list2, list3]) {
      expect(l.status).toBe(200);
      expect(l.body.items).toEqual([expect.objectContaining({ id: res.image_id, version: 1, built: true, error: false, application_id: id })]);
      expect(l.body.pagination).toEqual({ page: 1, per_page: 20, total: 1, total_pages: 1 });
    }
    // the service shows its latest image (detail) and latest image version (list)
    expect((await t.req("GET", `${P}/front`, undefined, { key })).body.latest_image).toMatchObject({ id: res.image_id, version: 1, built: true });
    const apps = await t.req("GET", `${P}`, undefined, { key });
    expect(apps.body.find((a: { slug: string }) => a.slug === "front").latest_image_version).toBe(1);
    // a later log read with ?after= returns only newer lines (none)
    expect((await t.req("GET", `/api/v1/images/${res.image_id}/log?after=${log.last_line_id}`, undefined, { key })).body.log_text).toBe("");
  });

  test("gzip body through the reference route with the org/project/app form; Procfile web + worker", async () => {
    await service("procs");
    const body = gzipSync(
      await contextTar({
        // the Dockerfile Ancla injects (for its labels) and its .dockerignore never reach COPY
        Dockerfile: "FROM ancla-test/busybox\nCOPY . /app\nRUN test ! -e /app/.ancla.Dockerfile && test ! -e /app/.dockerignore && test -e /app/Procfile\n",
        Procfile: "# processes\nweb: httpd -f -p $PORT -h /app\nworker: sh -c 'while true; do sleep 5; done'\n",
      }),
    );
    const r = await upload(`/api/v1/images/${ORG}/web/procs/build`, body, "application/gzip");
    expect(r.status).toBe(201);
    expect((await waitForJob(t.deps, r.body.job_id)).status).toBe("complete");
    const d = (await t.req("GET", `/api/v1/images/${r.body.image_id}/detail`, undefined, { key })).body;
    expect(d.processes).toEqual({ web: "httpd -f -p $PORT -h /app", worker: "sh -c 'while true; do sleep 5; done'" });
    expect(d.procfile).toContain("worker:");
  });

  test("a failing Dockerfile ends `error` with its log and leaves no build containers", async () => {
    await service("broken");
    const { job, detail, log } = await buildAndWait("broken", { Dockerfile: "FROM ancla-test/busybox\nRUN echo about-to-fail && exit 3\n" });
    expect(job.status).toBe("error");
    expect(detail.built).toBe(false);
    expect(detail.error).toBe(true);
    expect(detail.error_detail).toContain("returned a non-zero code: 3");
    expect(log.status).toBe("error");
    expect(log.log_text).toContain("about-to-fail");
    const containerIds = [...log.log_text.matchAll(/Running in ([0-9a-f]{12})/g)].map((m) => m[1]!);
    expect(containerIds.length).toBe(1);
    for (const c of containerIds) expect(await containerExists(c)).toBe(false);
  });

  test("an invalid Procfile fails the build naming the line", async () => {
    await service("badproc");
    const { detail } = await buildAndWait("badproc", { Dockerfile: "FROM ancla-test/busybox\n", Procfile: "web: httpd -f\nnot a process line\n" });
    expect(detail.error).toBe(true);
    expect(detail.error_detail).toContain("Procfile line 2 ('not a process line')");
  });

  test("a missing Dockerfile fails with a message saying so", async () => {
    await service("nodockerfile");
    const { detail } = await buildAndWait("nodockerfile", { "README.md": "no dockerfile here" });
    expect(detail.error_detail).toContain("No Dockerfile at 'Dockerfile'");
  });
});

describe("bad build requests change nothing", () => {
  test("no body and no git/image source → 422 naming what is missing", async () => {
    await service("empty");
    const before = snapshotDb(t.deps);
    const r = await t.req("POST", `${P}/empty/images/build`, undefined, { key });
    expect(r.status).toBe(422);
    expect(r.body.message).toContain("send the build context as a tar");
    expect(r.body.message).toContain("git_url");
    const j = await t.req("POST", `/api/v1/images/${ids.empty}/build`, {}, { key });
    expect(j.status).toBe(422);
    expect(snapshotDb(t.deps)).toBe(before);
  });

  test("malicious tars are rejected before Docker sees them; nothing is recorded or built", async () => {
    await service("evil");
    const make = async (entries: (Partial<tar.Header> & { name: string; body?: string })[]) => {
      const pack = tar.pack();
      const chunks: Buffer[] = [];
      pack.on("data", (c: unknown) => chunks.push(c as Buffer));
      const done = new Promise<void>((r) => pack.on("end", () => r()));
      for (const { body, ...h } of entries) pack.entry(h as tar.Header, body ?? "");
      pack.finalize();
      await done;
      return Buffer.concat(chunks);
    };
    const df = { name: "Dockerfile", body: "FROM ancla-test/busybox\nCOPY . /x\n" };
    const cases: [string, Buffer, number][] = [
      ["absolute", await make([df, { name: "/etc/cron.d/x", body: "x" }]), 422],
      ["dotdot", await make([df, { name: "../../outside", body: "x" }]), 422],
      ["symlink", await make([df, { name: "passwd", type: "symlink", linkname: "../../../etc/passwd" }]), 422],
      ["hardlink", await make([df, { name: "shadow", type: "link", linkname: "/etc/shadow" }]), 422],
      ["device", await make([df, { name: "mem", type: "character-device", devmajor: 1, devminor: 1 }]), 422],
      ["not a tar", Buffer.from("just some text, certainly not a tar archive".repeat(30)), 400],
    ];
    const imagesBefore = await orgImageIds(ORG); // this org's only: other files build concurrently
    const before = snapshotDb(t.deps);
    for (const [what, body, status] of cases) {
      const r = await upload(`${P}/evil/images/build`, body);
      expect([what, r.status]).toEqual([what, status]);
      expect(typeof r.body.message).toBe("string");
      const gz = await upload(`/api/v1/images/${ids.evil}/build`, gzipSync(body), "application/gzip");
      expect([what, gz.status]).toEqual([what, status]);
    }
    expect(snapshotDb(t.deps)).toBe(before);
    expect(await orgImageIds(ORG)).toEqual(imagesBefore);
  });

  test("an oversize context → 413 (limit from --max-context-size), nothing recorded", async () => {
    const small = await testApp({ maxContextSize: 50_000 });
    try {
      const k = (await small.user("u")).key;
      await small.req("POST", "/api/v1/organizations", { name: "S", slug: "s" }, { key: k });
      await small.req("POST", "/api/v1/orgs/s/projects", { name: "W", slug: "w" }, { key: k });
      expect((await small.req("POST", "/api/v1/orgs/s/projects/w/envs/production/services", { name: "a" }, { key: k })).status).toBe(201);
      const before = snapshotDb(small.deps);
      const big = await contextTar({ Dockerfile: "FROM ancla-test/busybox\n", "big.bin": "0".repeat(200_000) });
      const path = "/api/v1/orgs/s/projects/w/envs/production/services/a/images/build";
      const plain = await small.req("POST", path, undefined, { key: k, raw: big as unknown as BodyInit, headers: { "content-type": "application/x-tar" } });
      expect(plain.status).toBe(413);
      const gz = await small.req("POST", path, undefined, { key: k, raw: gzipSync(big), headers: { "content-type": "application/gzip" } });
      expect(gz.status).toBe(413); // small when compressed, too large once unpacked
      expect(snapshotDb(small.deps)).toBe(before);
    } finally {
      small.close();
    }
  });

  test("other content types → 415; unknown services → 404; no key → 401", async () => {
    expect((await upload(`${P}/front/images/build`, new TextEncoder().encode("x"), "text/plain")).status).toBe(415);
    expect((await upload(`${P}/nope/images/build`, await contextTar({ Dockerfile: "FROM x\n" }))).status).toBe(404);
    expect((await t.req("POST", `${P}/front/images/build`)).status).toBe(401);
    expect((await t.req("GET", `/api/v1/images/0190a0b0-0000-7000-8000-000000000000/detail`, undefined, { key })).status).toBe(404);
    expect((await t.req("GET", `/api/v1/images/not-a-uuid/log`, undefined, { key })).status).toBe(404);
    expect((await t.req("GET", `${P}/front/images/999`, undefined, { key })).status).toBe(404);
    expect((await t.req("GET", `${P}/front/images/abc`, undefined, { key })).status).toBe(422);
    // someone outside the organization sees nothing and can build nothing (404, existence not leaked)
    const outsider = (await t.user("outsider")).key;
    const image = (await t.req("GET", `${P}/front/images`, undefined, { key })).body.items[0].id;
    for (const path of [`/api/v1/images/${image}/detail`, `/api/v1/images/${image}/log`, `/api/v1/images/${ids.front}`, `/api/v1/images/${ORG}/web/front`, `${P}/front/images`]) {
      const r = await t.req("GET", path, undefined, { key: outsider });
      expect([path, r.status]).toEqual([path, 404]);
    }
    const before = snapshotDb(t.deps);
    const tarBody = (await contextTar({ Dockerfile: "FROM ancla-test/busybox\n" })) as unknown as BodyInit;
    for (const path of [`/api/v1/images/${ids.front}/build`, `${P}/front/images/build`]) {
      const r = await t.req("POST", path, undefined, { key: outsider, raw: tarBody, headers: { "content-type": "application/x-tar" } });
      expect([path, r.status]).toEqual([path, 404]);
    }
    expect(snapshotDb(t.deps)).toBe(before);
  });
});

describe("git and pre-built sources", () => {
  const git = (cwd: string, ...args: string[]) => {
    const r = Bun.spawnSync(["git", ...args], { cwd, env: { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" } });
    if (r.exitCode !== 0) throw new Error(r.stderr.toString());
    return r.stdout.toString().trim();
  };
  let repo: string;
  let first: string;
  let second: string;
  beforeAll(() => {
    repo = join(tmp, "repo");
    mkdirSync(join(repo, "app"), { recursive: true });
    git(repo, "init", "-q", "-b", "main");
    writeFileSync(join(repo, "app/Dockerfile"), 'FROM ancla-test/busybox\nCOPY version.txt /version.txt\nCMD ["cat", "/version.txt"]\n');
    writeFileSync(join(repo, "app/version.txt"), "one\n");
    writeFileSync(join(repo, "app/Procfile"), "web: httpd -f -p $PORT\n");
    git(repo, "add", ".");
    git(repo, "commit", "-q", "-m", "one");
    first = git(repo, "rev-parse", "HEAD");
    writeFileSync(join(repo, "app/version.txt"), "two\n");
    git(repo, "commit", "-q", "-am", "two");
    second = git(repo, "rev-parse", "HEAD");
    git(repo, "branch", "release", first);
  });

  const buildWithoutBody = async (svc: string) => {
    const r = await t.req("POST", `${P}/${svc}/images/build`, undefined, { key });
    expect(r.status).toBe(201);
    await waitForJob(t.deps, r.body.job_id);
    return (await t.req("GET", `/api/v1/images/${r.body.image_id}/detail`, undefined, { key })).body;
  };
  const fileIn = async (ref: string, path: string) => {
    const c = await testDocker().createContainer({ Image: ref, Cmd: ["cat", path], Labels: { [TEST_RUN_LABEL]: RUN_ID } });
    await c.start();
    await c.wait();
    const out = (await c.logs({ stdout: true })).toString();
    await c.remove({ force: true });
    return out;
  };

  test("file:// repository at a branch, subdirectory respected, commit recorded", async () => {
    await service("gitbranch", { git_url: `file://${repo}`, build_ref: "release", subdirectory: "app" });
    const d = await buildWithoutBody("gitbranch");
    expect(d.error_detail).toBeNull();
    expect(d).toMatchObject({ built: true, source: "git", build_ref: "release", commit_sha: first, processes: { web: "httpd -f -p $PORT" } });
    expect(await fileIn(`ancla/${ORG}/web/production/gitbranch:v1`, "/version.txt")).toContain("one");
  });

  test("file:// repository at a commit id; default branch when build_ref is empty", async () => {
    await service("gitcommit", { git_url: `file://${repo}`, build_ref: first, subdirectory: "app" });
    const d = await buildWithoutBody("gitcommit");
    expect(d).toMatchObject({ built: true, commit_sha: first });
    await service("gitdefault", { git_url: `file://${repo}`, subdirectory: "app" });
    const d2 = await buildWithoutBody("gitdefault");
    expect(d2).toMatchObject({ built: true, commit_sha: second });
    expect(await fileIn(`ancla/${ORG}/web/production/gitdefault:v1`, "/version.txt")).toContain("two");
  });

  test("an unknown branch fails with git's message", async () => {
    await service("gitbad", { git_url: `file://${repo}`, build_ref: "no-such-branch" });
    const d = await buildWithoutBody("gitbad");
    expect(d.error).toBe(true);
    expect(d.error_detail).toContain("no-such-branch");
  });

  test("pre-built local image: no build, tagged as the next version; a missing image fails clearly", async () => {
    const local = `ancla-test/prebuilt-${RUN_ID}:1`;
    await testDocker().getImage("ancla-test/busybox").tag({ repo: `ancla-test/prebuilt-${RUN_ID}`, tag: "1" });
    await service("prebuilt", { image: local });
    const d = await buildWithoutBody("prebuilt");
    expect(d).toMatchObject({ built: true, source: "image", build_ref: local, processes: { web: null }, dockerfile: null });
    const base = await testDocker().getImage(local).inspect();
    expect(d.image_id).toBe(base.Id);
    expect((await testDocker().getImage(`ancla/${ORG}/web/production/prebuilt:v1`).inspect()).Id).toBe(base.Id);
    await service("prebuiltmissing", { image: `ancla-test/does-not-exist-${RUN_ID}:1` });
    const m = await buildWithoutBody("prebuiltmissing");
    expect(m.error_detail).toContain("does not exist on this Docker host");
    await testDocker().getImage(`ancla/${ORG}/web/production/prebuilt:v1`).remove({ noprune: true }).catch(() => {});
    await testDocker().getImage(local).remove({ noprune: true }).catch(() => {});
  });
});

describe("queue, secrets and retention", () => {
  test("two build requests for one service run one after the other, in order", async () => {
    await service("twice");
    const files = { Dockerfile: "FROM ancla-test/busybox\nRUN sleep 1\n" };
    const a = await upload(`${P}/twice/images/build`, await contextTar(files));
    const b = await upload(`${P}/twice/images/build`, await contextTar({ ...files, "x.txt": "changed" }));
    expect([a.body.version, b.body.version]).toEqual([1, 2]);
    const second = await waitForJob(t.deps, b.body.job_id);
    const first = getJob(t.deps, a.body.job_id)!;
    expect([first.status, second.status]).toEqual(["complete", "complete"]);
    expect(second.startedAt! >= first.finishedAt!).toBe(true);

    // only the newest uploaded context stays on disk, and a pipeline deploy can rebuild from it
    expect(readdirSync(join(t.dataDir, "contexts", ids.twice!))).toEqual([`${b.body.image_id}.tar`]);
    const user = findUserByLogin(t.deps.db, "builder")!;
    const access = serviceAccessById(t.deps, { user, via: "key" } as never, ids.twice!);
    expect(() => enqueueBuild(t.deps, access, { kind: "auto" })).toThrow(/Nothing to build/);
    const again = enqueueBuild(t.deps, access, { kind: "auto", reuseLastUpload: true });
    expect(again.image.version).toBe(3);
    expect((await waitForJob(t.deps, again.job.id)).status).toBe("complete");
    const d = (await t.req("GET", `/api/v1/images/${again.image.id}/detail`, undefined, { key })).body;
    expect(d).toMatchObject({ built: true, source: "upload", dockerfile: files.Dockerfile });
  });

  test("secret build-time values never reach the build log or the image history; non-secret ones are build args", async () => {
    await service("secrets");
    const secret = `s3cret-${RUN_ID}-value`;
    const cfg = `${P}/secrets/config`;
    expect((await t.req("POST", cfg, { name: "NPM_TOKEN", value: secret, secret: true, buildtime: true }, { key })).status).toBe(201);
    expect((await t.req("POST", cfg, { name: "PUBLIC_URL", value: "https://public.example", buildtime: true }, { key })).status).toBe(201);
    expect((await t.req("POST", cfg, { name: "RUNTIME_ONLY", value: "runtime-value", buildtime: false }, { key })).status).toBe(201);
    const { detail, log } = await buildAndWait("secrets", {
      Dockerfile: 'FROM ancla-test/busybox\nARG NPM_TOKEN\nARG PUBLIC_URL\nARG RUNTIME_ONLY\nRUN echo "token=[$NPM_TOKEN] url=[$PUBLIC_URL] rt=[$RUNTIME_ONLY]"\n',
    });
    expect(detail.built).toBe(true);
    expect(log.log_text).toContain("token=[] url=[https://public.example] rt=[]");
    expect(log.log_text).toContain("withheld secret build-time variables (secrets are never passed to builds): NPM_TOKEN");
    const history = JSON.stringify(await testDocker().getImage(detail.image_id).history());
    expect(history).toContain("PUBLIC_URL=https://public.example");
    for (const text of [log.log_text, history, JSON.stringify(detail), ...t.bodies]) expect(text).not.toContain(secret);

    // a Dockerfile that prints the secret literally still shows it redacted in the log
    const leaky = await buildAndWait("secrets", { Dockerfile: `FROM ancla-test/busybox\nRUN echo leak-${secret}\n` });
    expect(leaky.log.log_text).toContain("leak-");
    expect(leaky.log.log_text).not.toContain(secret);
    expect(JSON.stringify(leaky.detail)).not.toContain(secret);
  });

  test("retention keeps the newest keep_images and removes only the platform's old images", async () => {
    await service("retained", { keep_images: 2 });
    // images Ancla did not create: one in another repository, one carrying our labels for another service
    const foreign = `ancla-test/foreign-${RUN_ID}:keep`;
    await testDocker().getImage("ancla-test/busybox").tag({ repo: `ancla-test/foreign-${RUN_ID}`, tag: "keep" });
    const versions: string[] = [];
    for (let i = 1; i <= 4; i++) {
      const { detail } = await buildAndWait("retained", { Dockerfile: `FROM ancla-test/busybox\nRUN echo build-${i}\n` });
      expect(detail.built).toBe(true);
      versions.push(`ancla/${ORG}/web/production/retained:v${i}`);
    }
    expect(await imageExists(versions[0]!)).toBe(false);
    expect(await imageExists(versions[1]!)).toBe(false);
    expect(await imageExists(versions[2]!)).toBe(true);
    expect(await imageExists(versions[3]!)).toBe(true);
    expect(await imageExists(foreign)).toBe(true);
    expect(await imageExists(`ancla/${ORG}/web/production/front:v1`)).toBe(true); // another service's image
    expect(await imageExists("ancla-test/busybox")).toBe(true);
    // history stays listed
    const list = await t.req("GET", `${P}/retained/images`, undefined, { key });
    expect(list.body.items.map((i: { version: number }) => i.version)).toEqual([4, 3, 2, 1]);
    await testDocker().getImage(foreign).remove({ noprune: true });
  });

  test("retention keeps the images of recent releases so they stay rollback targets", async () => {
    const id = await service("released", { keep_images: 2 });
    const refs = (v: number) => `ancla/${ORG}/web/production/released:v${v}`;
    await buildAndWait("released", { Dockerfile: "FROM ancla-test/busybox\nRUN echo released-1\n" });
    const rel = await t.req("POST", `/api/v1/releases/${id}/create`, undefined, { key });
    expect(rel.status).toBe(201);
    for (let i = 2; i <= 4; i++) await buildAndWait("released", { Dockerfile: `FROM ancla-test/busybox\nRUN echo released-${i}\n` });
    expect(await imageExists(refs(1))).toBe(true); // v1 is release 1's image
    expect(await imageExists(refs(2))).toBe(false);
    expect(await imageExists(refs(3))).toBe(true);
    expect(await imageExists(refs(4))).toBe(true);
  });

  test("build stage status follows the latest image", async () => {
    const { buildStageStatus } = await import("../../src/modules/images");
    expect(buildStageStatus(t.deps, ids.retained!)).toEqual({ id: expect.any(String), status: "complete", version: 4, error_detail: null, step: { name: "complete" } });
    expect(buildStageStatus(t.deps, ids.broken!)).toMatchObject({ status: "error", version: 1 });
    await service("fresh");
    expect(buildStageStatus(t.deps, ids.fresh!)).toBeNull();
  });
});
