// `ancla images build|list|log` against a live `ancla serve` and the real Docker engine.
import { afterAll, beforeAll, describe, expect, test, setDefaultTimeout } from "bun:test";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ancla, startLiveServer, type LiveServer } from "../support/server";
import { ensureBaseImage, removeLabelled, RUN_ID } from "../support/docker";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(300_000);

const ORG = `c${RUN_ID}`;
let server: LiveServer;
let env: Record<string, string>;
const work = mkdtempSync(join(tmpdir(), "ancla-cli-build-"));
const run = (args: string[], cwd = work) => ancla(args, { env, cwd, home: server.home });

beforeAll(async () => {
  await ensureBaseImage();
  server = await startLiveServer();
  env = { ANCLA_SERVER: server.url, ANCLA_API_KEY: server.adminKey };
  const api = (path: string, body: unknown) =>
    fetch(server.url + path, { method: "POST", body: JSON.stringify(body), headers: { "x-api-key": server.adminKey, "content-type": "application/json" } });
  expect((await api("/api/v1/organizations", { name: "CLI", slug: ORG })).status).toBe(201);
  expect((await api(`/api/v1/orgs/${ORG}/projects`, { name: "Web", slug: "web" })).status).toBe(201);
  for (const name of ["site", "bad"]) expect((await api(`/api/v1/orgs/${ORG}/projects/web/envs/production/services`, { name })).status).toBe(201);
});

afterAll(async () => {
  await server?.stop();
  await removeLabelled(`dev.ancla.org=${ORG}`);
  rmSync(work, { recursive: true, force: true });
});

describe("ancla images", () => {
  test("build tars the directory honouring .dockerignore, shows progress, then list and log show it", async () => {
    const dir = join(work, "site");
    mkdirSync(join(dir, "node_modules"), { recursive: true });
    writeFileSync(join(dir, "Dockerfile"), "FROM ancla-test/busybox\nCOPY . /app\nRUN test ! -e /app/local.env && test ! -e /app/node_modules/big.js && test -e /app/node_modules/keep.txt && test ! -e /app/.ancla.Dockerfile && echo context-ok\n");
    writeFileSync(join(dir, ".dockerignore"), "local.env\nnode_modules\n!node_modules/keep.txt\n");
    writeFileSync(join(dir, "local.env"), "SHOULD_NOT_BE_SENT=1\n");
    writeFileSync(join(dir, "node_modules/big.js"), "x");
    writeFileSync(join(dir, "node_modules/keep.txt"), "kept");
    writeFileSync(join(dir, "Procfile"), "web: httpd -f -p $PORT -h /app\n");
    const r = await run(["images", "build", `${ORG}/web/production/site`, "--path", dir]);
    expect(r.stderr).toContain("uploading build context");
    expect(r.stderr).toMatch(/step \d+\/\d+: RUN test/);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain(`ancla/${ORG}/web/production/site:v1`);
    expect(r.stdout).toMatch(/processes:\s+web/);

    const list = await run(["images", "list", `${ORG}/web/production/site`, "--json"]);
    expect(list.code).toBe(0);
    const items = list.json().items;
    expect(items).toHaveLength(1);
    expect(items[0]).toMatchObject({ version: 1, built: true });

    const log = await run(["images", "log", items[0].id]);
    expect(log.code).toBe(0);
    expect(log.stdout).toContain("context-ok");
    const table = await run(["images", "list", `${ORG}/web/production/site`]);
    expect(table.stdout).toMatch(/VERSION\s+STATUS/);
    expect(table.stdout).toMatch(/v1\s+complete/);
  });

  test("a failing build with --follow streams the log and exits non-zero; log --follow agrees", async () => {
    const dir = join(work, "bad");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "Dockerfile"), "FROM ancla-test/busybox\nRUN echo going-down && exit 7\n");
    const r = await run(["images", "build", `${ORG}/web/production/bad`, "--path", dir, "--follow"]);
    expect(r.code).not.toBe(0);
    expect(r.stdout).toContain("going-down");
    expect(r.stderr).toContain("build v1 failed");
    expect(r.stderr).toContain("non-zero code: 7");
    const id = /ancla images log (\S+)\)/.exec(r.stderr)![1]!;
    const follow = await run(["images", "log", id, "-f"]);
    expect(follow.code).not.toBe(0);
    expect(follow.stdout).toContain("going-down");
  });

  test("usage errors: no directory, no such service", async () => {
    const missing = await run(["images", "build", `${ORG}/web/production/site`, "--path", join(work, "nope")]);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain("is not a directory");
    const unknown = await run(["images", "list", `${ORG}/web/production/ghost`]);
    expect(unknown.code).toBe(4);
  });
});
