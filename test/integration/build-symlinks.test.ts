// Symbolic links must never carry a build outside its context (issue 9, critical): a git
// repository fixture made with the real git binary holds links to `/`, up into the data dir and
// chains of links; every escape fails the build with a clear message and no host file content
// reaches the image record, the log or an image. Uploads with link chains are refused with 422.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { basename, join } from "node:path";
import { gzipSync } from "node:zlib";
import * as tar from "tar-stream";
import { snapshotDb, testApp, type TestApp } from "../support/app";
import { ensureBaseImage, removeLabelled, RUN_ID, TEST_RUN_LABEL, testDocker, removeOrgResources, orgImageIds } from "../support/docker";
import { startWorker, type Worker } from "../../src/jobs/worker";
import { waitForJob } from "../../src/jobs/queue";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(300_000);

let t: TestApp;
let worker: Worker;
let key: string;
const ORG = `s${RUN_ID}`;
const P = `/api/v1/orgs/${ORG}/projects/web/envs/production/services`;
const tmp = mkdtempSync(join(tmpdir(), "ancla-symlinks-"));
const repo = join(tmp, "repo");
const outside = join(tmp, "outside");
const SECRET = `HOST-SECRET-${RUN_ID}`;
const secretFile = join(outside, "host-secret.txt");
const git = (cwd: string, ...args: string[]) => {
  const env = { ...process.env, GIT_AUTHOR_NAME: "t", GIT_AUTHOR_EMAIL: "t@t", GIT_COMMITTER_NAME: "t", GIT_COMMITTER_EMAIL: "t@t" };
  const r = Bun.spawnSync(["git", ...args], { cwd, env });
  if (r.exitCode !== 0) throw new Error(r.stderr.toString());
};
const DOCKERFILE = "FROM ancla-test/busybox\nCOPY . /stolen\n"; // what an attacker's build would do with whatever it is given

/** The attacker's repository: every link is committed as a link. */
function makeRepo() {
  mkdirSync(outside, { recursive: true });
  writeFileSync(secretFile, `${SECRET}\n`);
  for (const d of ["app", "procapp", "dign"]) mkdirSync(join(repo, d), { recursive: true });
  symlinkSync("/", join(repo, "rootfs"));
  symlinkSync("../../../..", join(repo, "up")); // from <data-dir>/builds/<id>/src: the data dir's parent
  symlinkSync("chain2", join(repo, "chain1"));
  symlinkSync("rootfs", join(repo, "chain2"));
  // a normal app whose context holds links out; they must travel as links, never as the files they name
  writeFileSync(
    join(repo, "app/Dockerfile"),
    'FROM ancla-test/busybox\nCOPY . /app\nRUN test -L /app/hostlink && test "$(readlink /app/hostlink)" = /etc && test -L /app/secretlink && test ! -e /app/secretlink\n',
  );
  symlinkSync("/etc", join(repo, "app/hostlink"));
  symlinkSync(secretFile, join(repo, "app/secretlink"));
  symlinkSync("Dockerfile", join(repo, "app/Dockerfile.link")); // a link that stays inside is fine
  writeFileSync(join(repo, "procapp/Dockerfile"), DOCKERFILE);
  symlinkSync(secretFile, join(repo, "procapp/Procfile"));
  writeFileSync(join(repo, "dign/Dockerfile"), DOCKERFILE);
  symlinkSync(secretFile, join(repo, "dign/.dockerignore"));
  git(repo, "init", "-q", "-b", "main");
  git(repo, "add", ".");
  git(repo, "commit", "-q", "-m", "links");
}

async function gitBuild(name: string, fields: Record<string, unknown>) {
  const s = await t.req("POST", P, { name, git_url: `file://${repo}`, ...fields }, { key });
  expect(s.status).toBe(201);
  const r = await t.req("POST", `${P}/${name}/images/build`, undefined, { key });
  expect(r.status).toBe(201);
  await waitForJob(t.deps, r.body.job_id, 120_000);
  const detail = (await t.req("GET", `/api/v1/images/${r.body.image_id}/detail`, undefined, { key })).body;
  const log = (await t.req("GET", `/api/v1/images/${r.body.image_id}/log`, undefined, { key })).body.log_text as string;
  return { detail, log, ref: `ancla/${ORG}/web/production/${name}:v1` };
}
const imageExists = (ref: string) => testDocker().getImage(ref).inspect().then(() => true, () => false);

beforeAll(async () => {
  await ensureBaseImage();
  makeRepo();
  t = await testApp();
  // the attacker's hoped-for build root: a Dockerfile planted in the data dir next to master.key
  writeFileSync(join(t.dataDir, "Dockerfile"), DOCKERFILE);
  key = (await t.user("builder", { admin: true })).key; // admin: file:// repositories are server-admin only
  expect((await t.req("POST", "/api/v1/organizations", { name: "Links", slug: ORG }, { key })).status).toBe(201);
  expect((await t.req("POST", `/api/v1/orgs/${ORG}/projects`, { name: "Web", slug: "web" }, { key })).status).toBe(201);
  worker = await startWorker(t.deps);
});

afterAll(async () => {
  await worker?.stop();
  await removeOrgResources(ORG);
  await removeLabelled(`${TEST_RUN_LABEL}=${RUN_ID}`);
  t?.close();
  rmSync(tmp, { recursive: true, force: true });
});

describe("git builds: links out of the checkout are refused", () => {
  test("subdirectory → / with dockerfile_path etc/passwd: refused, /etc/passwd is never read", async () => {
    const { detail, log, ref } = await gitBuild("rootfs", { subdirectory: "rootfs", dockerfile_path: "etc/passwd" });
    expect(detail).toMatchObject({ status: "error", dockerfile: null, procfile: null });
    expect(detail.error_detail).toBe("Subdirectory 'rootfs' resolves through a symbolic link to a path outside the repository checkout; refused.");
    expect(JSON.stringify(detail) + log).not.toContain("root:x:0:0");
    expect(await imageExists(ref)).toBe(false);
  });

  test("subdirectory up/<data dir>: refused, master.key and ancla.db never reach an image", async () => {
    const { detail, log, ref } = await gitBuild("up", { subdirectory: `up/${basename(t.dataDir)}` });
    expect(detail.error_detail).toContain(`Subdirectory 'up/${basename(t.dataDir)}' resolves through a symbolic link to a path outside the repository checkout`);
    expect(detail.dockerfile).toBeNull();
    expect(await imageExists(ref)).toBe(false);
    expect(JSON.stringify(detail) + log).not.toContain(DOCKERFILE.trim());
    const masterKey = readFileSync(join(t.dataDir, "master.key")); // 32 raw bytes
    for (const form of [masterKey.toString("hex"), masterKey.toString("base64")]) expect(t.bodies.join("\n")).not.toContain(form);
  });

  test("dockerfile_path through a chain of links (chain1 → chain2 → rootfs → /): refused, the file is never read", async () => {
    const { detail, log, ref } = await gitBuild("chain", { dockerfile_path: `chain1${secretFile}` });
    expect(detail.error_detail).toBe(`Dockerfile 'chain1${secretFile}' resolves through a symbolic link to a path outside the build context; refused.`);
    expect(JSON.stringify(detail) + log).not.toContain(SECRET);
    expect(await imageExists(ref)).toBe(false);
  });

  test("a Procfile or .dockerignore linked out of the context: refused, never read", async () => {
    const proc = await gitBuild("proclink", { subdirectory: "procapp" });
    expect(proc.detail.error_detail).toBe("Procfile 'Procfile' resolves through a symbolic link to a path outside the build context; refused.");
    const ign = await gitBuild("ignorelink", { subdirectory: "dign" });
    expect(ign.detail.error_detail).toBe("'.dockerignore' is a symbolic link to a file outside the build context; refused.");
    for (const b of [proc, ign]) {
      expect(JSON.stringify(b.detail) + b.log).not.toContain(SECRET);
      expect(await imageExists(b.ref)).toBe(false);
    }
  });

  test("links that stay inside are followed, links out travel as links: the image holds no host file", async () => {
    const { detail, ref } = await gitBuild("normal", { subdirectory: "app", dockerfile_path: "Dockerfile.link" });
    expect(detail.error_detail).toBeNull();
    expect(detail.built).toBe(true);
    expect(detail.dockerfile).toContain("COPY . /app"); // read through the inside link
    // the RUN line proved /app/hostlink and /app/secretlink are links; nothing of the host file is in the image
    const c = await testDocker().createContainer({ Image: ref, Cmd: ["sh", "-c", "cat /app/secretlink; grep -r HOST-SECRET /app; true"], Labels: { [TEST_RUN_LABEL]: RUN_ID } });
    await c.start();
    await c.wait();
    const out = (await c.logs({ stdout: true, stderr: true })).toString();
    await c.remove({ force: true });
    expect(out).not.toContain(SECRET);
  });
});

describe("uploads: link chains are refused before anything is stored", () => {
  test("d1/d2/s → ../.. with d1/d2/s/esc, and t → s/.. through another link → 422, plain and gzip", async () => {
    expect((await t.req("POST", P, { name: "upl" }, { key })).status).toBe(201);
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
    const df = { name: "Dockerfile", body: DOCKERFILE };
    const cases: [Buffer, RegExp][] = [
      [await make([df, { name: "d1/d2/s", type: "symlink", linkname: "../.." }, { name: "d1/d2/s/esc", type: "symlink", linkname: "../../.." }]), /lies under the symbolic link 'd1\/d2\/s'/],
      [await make([df, { name: "d1/d2/up", type: "symlink", linkname: "../.." }, { name: "s", type: "symlink", linkname: "d1/d2/up" }, { name: "t", type: "symlink", linkname: "s/../etc" }]), /leaves the build context/],
    ];
    const imagesBefore = await orgImageIds(ORG); // this org's only: other files build concurrently
    const before = snapshotDb(t.deps);
    for (const [body, message] of cases) {
      for (const [raw, type] of [[body, "application/x-tar"], [gzipSync(body), "application/gzip"]] as const) {
        const r = await t.req("POST", `${P}/upl/images/build`, undefined, { key, raw: raw as unknown as BodyInit, headers: { "content-type": type } });
        expect(r.status).toBe(422);
        expect(r.body.message).toMatch(message);
      }
    }
    expect(snapshotDb(t.deps)).toBe(before);
    expect(await orgImageIds(ORG)).toEqual(imagesBefore);
  });
});
