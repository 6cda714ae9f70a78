import { afterEach, beforeEach, describe, expect, test, setDefaultTimeout } from "bun:test";
import { snapshotDb, testApp, type TestApp } from "../support/app";
import { referenceProblems } from "../support/reference-schema";
import { resolveServiceConfig } from "../../src/modules/config-vars/resolve";
import { eq } from "drizzle-orm";
import { configVars, projects, teams } from "../../src/db/schema";
import { configWorld, PATHS, type ConfigWorld } from "./config-fixture";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

let t: TestApp;
let w: ConfigWorld;
const set = (path: string, name: string, value: string, extra: Record<string, unknown> = {}, key = w.owner.key) =>
  t.req("POST", path, { name, value, ...extra }, { key });

beforeEach(async () => {
  t = await testApp();
  w = await configWorld(t);
});
afterEach(() => t.close());

describe("resolution over five scopes", () => {
  test("most specific wins; team applies only to its projects; envs and services stay separate", async () => {
    const levels: [string, string][] = [["org", PATHS.org], ["team", PATHS.team], ["project", PATHS.project], ["env", PATHS.env], ["service", PATHS.service]];
    // ONE_ is set at org only, TWO_ at org+team, … FIVE_ at all five: each must resolve to its deepest level
    const names = ["ONE", "TWO", "THREE", "FOUR", "FIVE"];
    for (let depth = 0; depth < 5; depth++) {
      for (let l = 0; l <= depth; l++) expect((await set(levels[l]![1], names[depth]!, `${names[depth]}@${levels[l]![0]}`)).status).toBe(201);
    }
    await set(PATHS.team, "TEAM_ONLY", "team");
    await set(PATHS.staging, "FOUR", "FOUR@staging");
    await set(PATHS.soloProject, "THREE", "THREE@solo");

    const resolved = async (path: string) => {
      const r = await t.req("GET", path + "/resolved", undefined, { key: w.member.key });
      expect(r.status).toBe(200);
      return Object.fromEntries(r.body.map((v: any) => [v.name, `${v.value}|${v.scope}`]));
    };
    expect(await resolved(PATHS.service)).toEqual({
      ONE: "ONE@org|organization",
      TWO: "TWO@team|team",
      THREE: "THREE@project|project",
      FOUR: "FOUR@env|environment",
      FIVE: "FIVE@service|service",
      TEAM_ONLY: "team|team",
    });
    // same project, other environment: production's env and service values do not leak across
    expect(await resolved(PATHS.stagingService)).toEqual({
      ONE: "ONE@org|organization",
      TWO: "TWO@team|team",
      THREE: "THREE@project|project",
      FOUR: "FOUR@staging|environment",
      FIVE: "FIVE@project|project",
      TEAM_ONLY: "team|team",
    });
    // a project without a team: the team level is skipped entirely
    expect(await resolved(PATHS.soloService)).toEqual({
      ONE: "ONE@org|organization",
      TWO: "TWO@org|organization",
      THREE: "THREE@solo|project",
      FOUR: "FOUR@org|organization",
      FIVE: "FIVE@org|organization",
    });
  });

  test("resolved masks secrets; resolveServiceConfig hands the plaintext to builds and releases", async () => {
    await set(PATHS.org, "SHARED_TOKEN", "org-token-value", { secret: true });
    await set(PATHS.service, "SHARED_TOKEN", "service-token-value", { secret: true, buildtime: true });
    await set(PATHS.env, "PLAIN", "visible", { buildtime: true });
    const r = await t.req("GET", PATHS.service + "/resolved", undefined, { key: w.owner.key });
    expect(r.body).toEqual([
      { name: "PLAIN", value: "visible", secret: false, buildtime: true, scope: "environment", scope_id: w.ids.prod },
      { name: "SHARED_TOKEN", value: "**secret**", secret: true, buildtime: true, scope: "service", scope_id: w.ids.api },
    ]);
    expect(resolveServiceConfig(t.deps, w.ids.api)).toEqual([
      { name: "PLAIN", value: "visible", secret: false, buildtime: true, scope: "environment", scopeId: w.ids.prod },
      { name: "SHARED_TOKEN", value: "service-token-value", secret: true, buildtime: true, scope: "service", scopeId: w.ids.api },
    ]);
    expect(resolveServiceConfig(t.deps, w.ids.worker)).toEqual([
      { name: "SHARED_TOKEN", value: "org-token-value", secret: true, buildtime: false, scope: "organization", scopeId: w.ids.org },
    ]);
  });
});

describe("variables at one scope", () => {
  test("set, list, get and delete by name or id; setting an existing name updates it", async () => {
    const a = await set(PATHS.project, "DATABASE_URL", "postgres://one");
    expect(a.status).toBe(201);
    expect(referenceProblems("ConfigurationSummary", a.body)).toEqual([]);
    const b = await set(PATHS.project, "DATABASE_URL", "postgres://two", { buildtime: true }, w.member.key);
    expect(b.status).toBe(201);
    expect(b.body).toMatchObject({ id: a.body.id, name: "DATABASE_URL", value: "postgres://two", secret: false, buildtime: true, created: a.body.created });
    const list = await t.req("GET", PATHS.project + "/", undefined, { key: w.member.key });
    expect(list.body).toEqual([b.body]);
    expect((await t.req("GET", `${PATHS.project}/DATABASE_URL`, undefined, { key: w.member.key })).body).toEqual(b.body);
    expect((await t.req("GET", `${PATHS.project}/${a.body.id}`, undefined, { key: w.member.key })).body).toEqual(b.body);
    expect((await t.req("GET", `${PATHS.env}/DATABASE_URL`, undefined, { key: w.member.key })).status).toBe(404);
    const patched = await t.req("PATCH", `${PATHS.project}/DATABASE_URL`, { value: "postgres://three", buildtime: null }, { key: w.member.key });
    expect(patched.body).toMatchObject({ value: "postgres://three", buildtime: true });
    expect((await t.req("DELETE", `${PATHS.project}/${a.body.id}`, undefined, { key: w.member.key })).body).toEqual({ ok: true });
    expect((await t.req("GET", PATHS.project, undefined, { key: w.member.key })).body).toEqual([]);
    expect((await t.req("DELETE", `${PATHS.project}/DATABASE_URL`, undefined, { key: w.member.key })).status).toBe(404);
  });

  test("secrets read **secret** everywhere and can never be turned back into plain values", async () => {
    const s = await set(PATHS.env, "API_SECRET", "s3cr3t-value", { secret: true });
    expect(s.body).toMatchObject({ value: "**secret**", secret: true });
    expect((await t.req("GET", `${PATHS.env}/API_SECRET`, undefined, { key: w.owner.key })).body.value).toBe("**secret**");
    const before = snapshotDb(t.deps);
    const off = await t.req("PATCH", `${PATHS.env}/API_SECRET`, { value: "x", secret: false }, { key: w.owner.key });
    expect(off.status).toBe(422);
    expect(off.body.message).toContain("API_SECRET is a secret");
    expect((await set(PATHS.env, "API_SECRET", "x", { secret: false })).status).toBe(422);
    expect(snapshotDb(t.deps)).toBe(before);
    // re-setting without the flag keeps it secret; turning a plain variable into a secret works
    expect((await set(PATHS.env, "API_SECRET", "rotated-value")).body).toMatchObject({ value: "**secret**", secret: true });
    await set(PATHS.env, "LATER", "plain-now");
    expect((await t.req("PATCH", `${PATHS.env}/LATER`, { value: "hidden-now", secret: true }, { key: w.owner.key })).body).toMatchObject({ value: "**secret**", secret: true });
    const plain = Object.fromEntries(resolveServiceConfig(t.deps, w.ids.api).map((v) => [v.name, v.value]));
    expect(plain).toEqual({ API_SECRET: "rotated-value", LATER: "hidden-now" });
  });

  test("bad names, values, oversize and too many → 422 naming the variable, nothing written", async () => {
    const before = snapshotDb(t.deps);
    const cases: [unknown, string][] = [
      [{ name: "1ABC", value: "x" }, '"1ABC" is not a valid name'],
      [{ name: "BAD-NAME", value: "x" }, '"BAD-NAME" is not a valid name'],
      [{ name: "SPACE NAME", value: "x" }, "is not a valid name"],
      [{ name: "", value: "x" }, "is not a valid name"],
      [{ name: "N".repeat(256), value: "x" }, "longer than 255"],
      [{ name: "BIG", value: "x".repeat(64 * 1024 + 1) }, "value of BIG is larger than 64 KiB"],
      [{ name: "MULTIBYTE", value: "é".repeat(32 * 1024 + 1) }, "value of MULTIBYTE is larger than 64 KiB"],
      [{ name: "NUL", value: "a\u0000b" }, "value of NUL contains a NUL"],
      [{ name: "X", value: 5 }, "value"],
      [{ name: "X", value: "v", secret: "yes" }, "secret"],
      [{ value: "v" }, "name"],
    ];
    for (const [body, message] of cases) {
      const r = await t.req("POST", PATHS.service, body, { key: w.owner.key });
      expect(r.status).toBe(422);
      expect(r.body.message).toContain(message);
    }
    expect((await t.req("POST", PATHS.service, undefined, { key: w.owner.key, raw: "{oops", headers: { "content-type": "application/json" } })).status).toBe(400);
    expect(snapshotDb(t.deps)).toBe(before);
    // exactly 64 KiB is fine
    expect((await set(PATHS.service, "EXACT", "x".repeat(64 * 1024))).status).toBe(201);
  });

  test("at most 1000 variables per scope: the 1001st is refused by name and nothing is written", async () => {
    const variables = Object.fromEntries(Array.from({ length: 1001 }, (_, i) => [`V${String(i).padStart(4, "0")}`, "x"]));
    const before = snapshotDb(t.deps);
    const over = await t.req("POST", PATHS.org + "/bulk", { variables }, { key: w.owner.key });
    expect(over.status).toBe(422);
    expect(over.body.message).toContain("cannot add V1000");
    expect(snapshotDb(t.deps)).toBe(before);
    delete variables.V1000;
    expect((await t.req("POST", PATHS.org + "/bulk", { variables }, { key: w.owner.key })).body.created).toHaveLength(1000);
    const one = await set(PATHS.org, "ONE_MORE", "x");
    expect(one.status).toBe(422);
    expect(one.body.message).toContain("ONE_MORE");
    // updating an existing name at a full scope is still allowed; other scopes are unaffected
    expect((await set(PATHS.org, "V0001", "y")).status).toBe(201);
    expect((await set(PATHS.project, "ONE_MORE", "x")).status).toBe(201);
  });
});

describe("bulk import", () => {
  test("crafted .env: good lines applied in one go, bad lines reported by number, existing names skipped", async () => {
    await set(PATHS.env, "EXISTING", "old");
    const raw = [
      "# production settings",
      "export DATABASE_URL=postgres://db/app",
      "EXISTING=new",
      "1BAD=nope",
      'PEM="-----BEGIN KEY-----\\nabc\\n-----END KEY-----"',
      "just some words",
      "EMPTY=",
      "QUOTED='single # kept'",
      `HUGE=${"x".repeat(64 * 1024 + 1)}`,
      'UNCLOSED="oops',
    ].join("\r\n");
    const r = await t.req("POST", PATHS.env + "/bulk", { raw }, { key: w.member.key });
    expect(r.status).toBe(201);
    expect(referenceProblems("BulkConfigurationResponse", r.body)).toEqual([]);
    expect(r.body.created.sort()).toEqual(["DATABASE_URL", "EMPTY", "PEM", "QUOTED"]);
    expect(r.body.skipped).toEqual(["EXISTING"]);
    expect(r.body.errors.map((e: any) => e.line)).toEqual([4, 6, 9, 10]);
    expect(r.body.errors[2].message).toBe("value of HUGE is larger than 64 KiB");
    const values = Object.fromEntries(resolveServiceConfig(t.deps, w.ids.api).map((v) => [v.name, v.value]));
    expect(values).toEqual({ DATABASE_URL: "postgres://db/app", EXISTING: "old", PEM: "-----BEGIN KEY-----\nabc\n-----END KEY-----", EMPTY: "", QUOTED: "single # kept" });

    const again = await t.req("POST", PATHS.env + "/bulk", { raw: "EXISTING=new\nFRESH=1", overwrite: true, secret: true }, { key: w.member.key });
    expect(again.body).toEqual({ created: ["FRESH"], updated: ["EXISTING"], skipped: [], errors: [] });
    const listed = (await t.req("GET", PATHS.env, undefined, { key: w.member.key })).body;
    expect(listed.find((v: any) => v.name === "EXISTING")).toMatchObject({ value: "**secret**", secret: true });
  });

  test("variables object: invalid names are reported, the rest applied; neither field → 422", async () => {
    const r = await t.req("POST", PATHS.service + "/bulk", { variables: { GOOD: "1", "bad-name": "2" }, buildtime: true }, { key: w.owner.key });
    expect(r.body.created).toEqual(["GOOD"]);
    expect(r.body.errors).toEqual([{ name: "bad-name", message: expect.stringContaining("not a valid name"), error: expect.stringContaining("not a valid name") }]);
    expect((await t.req("GET", `${PATHS.service}/GOOD`, undefined, { key: w.owner.key })).body.buildtime).toBe(true);
    const before = snapshotDb(t.deps);
    expect((await t.req("POST", PATHS.service + "/bulk", {}, { key: w.owner.key })).status).toBe(422);
    expect((await t.req("POST", PATHS.service + "/bulk", { variables: { A: 1 } }, { key: w.owner.key })).status).toBe(422);
    expect(snapshotDb(t.deps)).toBe(before);
  });
});

describe("reference family /configurations/{application_id}", () => {
  test("service id and org/project/app forms reach the same service-scope variables", async () => {
    const byId = `/api/v1/configurations/${w.ids.api}`;
    const byPath = "/api/v1/configurations/acme/web/api";
    const c = await t.req("POST", byId, { name: "PORT_NAME", value: "http" }, { key: w.member.key });
    expect(c.status).toBe(201);
    expect((await t.req("GET", byPath, undefined, { key: w.member.key })).body).toEqual([c.body]);
    expect((await t.req("GET", `${byPath}/${c.body.id}`, undefined, { key: w.member.key })).body).toEqual(c.body);
    expect((await t.req("GET", PATHS.service, undefined, { key: w.member.key })).body).toEqual([c.body]);
    const p = await t.req("PATCH", `${byId}/${c.body.id}`, { value: "https" }, { key: w.member.key });
    expect(p.body).toMatchObject({ value: "https", secret: false });
    expect(referenceProblems("ConfigurationSummary", p.body)).toEqual([]);
    const b = await t.req("POST", `${byPath}/bulk`, { variables: { A_VAR: "1" } }, { key: w.member.key });
    expect(b.status).toBe(201);
    const b2 = await t.req("POST", `${byId}/bulk`, { raw: "B_VAR=2" }, { key: w.member.key });
    expect(b2.body.created).toEqual(["B_VAR"]);
    expect((await t.req("GET", `${byId}/`, undefined, { key: w.member.key })).body.map((v: any) => v.name)).toEqual(["A_VAR", "B_VAR", "PORT_NAME"]);
    expect((await t.req("DELETE", `${byPath}/${c.body.id}`, undefined, { key: w.member.key })).body).toEqual({ ok: true });
    // a service outside the default environment is reachable by id
    expect((await t.req("POST", `/api/v1/configurations/${w.ids.apiStaging}`, { name: "S", value: "1" }, { key: w.member.key })).status).toBe(201);
    expect((await t.req("GET", PATHS.stagingService, undefined, { key: w.member.key })).body.map((v: any) => v.name)).toEqual(["S"]);
    expect((await t.req("GET", "/api/v1/configurations/acme/web/nope", undefined, { key: w.member.key })).status).toBe(404);
    expect((await t.req("GET", "/api/v1/configurations/not-a-uuid", undefined, { key: w.member.key })).status).toBe(404);
  });
});

describe("access", () => {
  test("org and team config need an org admin; members write the rest", async () => {
    for (const path of [PATHS.org, PATHS.team]) {
      const r = await set(path, "X", "1", {}, w.member.key);
      expect(r.status).toBe(403);
      expect((await t.req("POST", path + "/bulk", { raw: "X=1" }, { key: w.member.key })).status).toBe(403);
      expect((await t.req("GET", path, undefined, { key: w.member.key })).status).toBe(200);
    }
    await set(PATHS.org, "X", "1");
    expect((await t.req("DELETE", `${PATHS.org}/X`, undefined, { key: w.member.key })).status).toBe(403);
    expect((await t.req("PATCH", `${PATHS.org}/X`, { value: "2" }, { key: w.member.key })).status).toBe(403);
    for (const path of [PATHS.project, PATHS.env, PATHS.service]) expect((await set(path, "X", "1", {}, w.member.key)).status).toBe(201);
  });

  test("members of another organization get 404 on every config route; no credentials → 401", async () => {
    for (const path of Object.values(PATHS)) await set(path, "X", "1");
    const refs = [...Object.values(PATHS), `/api/v1/configurations/${w.ids.api}`, "/api/v1/configurations/acme/web/api"];
    for (const base of refs) {
      const calls: [string, string, unknown?][] = [
        ["GET", base],
        ["POST", base, { name: "Y", value: "1" }],
        ["POST", base + "/bulk", { raw: "Y=1" }],
        ["GET", base + "/X"],
        ["PATCH", base + "/X", { value: "2" }],
        ["DELETE", base + "/X"],
      ];
      if (base === PATHS.service) calls.push(["GET", base + "/resolved"]);
      for (const [method, path, body] of calls) {
        expect([method, path, (await t.req(method, path, body, { key: w.outsider.key })).status]).toEqual([method, path, 404]);
        expect([method, path, (await t.req(method, path, body)).status]).toEqual([method, path, 401]);
      }
    }
    expect((await t.req("GET", PATHS.org + "/X", undefined, { key: w.owner.key })).body.value).toBe("1");
    // anonymous callers learn nothing from body validation either
    expect((await t.req("POST", PATHS.service, { name: 5 })).status).toBe(401);
    expect((await t.req("POST", PATHS.service + "/bulk", { variables: "x" })).status).toBe(401);
  });
});

describe("lifecycle", () => {
  test("deleting a project removes its own, its environments' and its services' variables; a team's go with the team", async () => {
    for (const path of Object.values(PATHS)) await set(path, "X", "1", { secret: true });
    const scopes = () => t.deps.db.select({ scope: configVars.scope, id: configVars.scopeId }).from(configVars).all().map((r) => r.scope).sort();
    expect(scopes()).toEqual(["environment", "environment", "organization", "project", "project", "service", "service", "service", "team"]);
    t.deps.db.delete(projects).where(eq(projects.id, w.ids.web)).run(); // cascades to its environments and services
    expect(scopes()).toEqual(["organization", "project", "service", "team"]); // solo's project + worker remain
    t.deps.db.delete(teams).where(eq(teams.id, w.ids.team)).run();
    expect(scopes()).toEqual(["organization", "project", "service"]);
  });
});
