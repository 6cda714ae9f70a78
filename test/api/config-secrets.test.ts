// Secret values never leave the server: not in any response, not in the server log, not as
// plaintext bytes in the database or its WAL. Redactors hide them from every log writer.
import { afterEach, beforeEach, describe, expect, spyOn, test, setDefaultTimeout } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { testApp, type TestApp } from "../support/app";
import { createApp } from "../../src/app";
import { createDeps, closeDeps } from "../../src/deps";
import { serveConfigSchema } from "../../src/config";
import { resolveServiceConfig } from "../../src/modules/config-vars/resolve";
import { serviceRedactor } from "../../src/modules/config-vars/redaction";
import { configWorld, PATHS, type ConfigWorld } from "./config-fixture";

// Generous per-file timeout: a busy CI machine must not fail a correct test (plain `bun test` defaults to 5 s).
setDefaultTimeout(180_000);

let t: TestApp;
let w: ConfigWorld;
beforeEach(async () => {
  t = await testApp();
  w = await configWorld(t);
});
afterEach(() => t.close());

const canary = (scope: string) => `CANARY-${scope}-${crypto.randomUUID()}`;
const fileBytes = (path: string) => (existsSync(path) ? readFileSync(path) : Buffer.alloc(0));

describe("secret canaries", () => {
  test("set at every scope through every write route: never in a response, never plaintext on disk", async () => {
    const c = {
      org: canary("org"),
      team: canary("team"),
      project: canary("project"),
      env: canary("env"),
      service: canary("service"),
      reference: canary("reference"),
      patched: canary("patched"),
    };
    const key = { key: w.owner.key };
    expect((await t.req("POST", PATHS.org, { name: "ORG_SECRET", value: c.org, secret: true }, key)).status).toBe(201);
    expect((await t.req("POST", PATHS.team + "/bulk", { raw: `TEAM_SECRET="${c.team}"`, secret: true }, key)).status).toBe(201);
    expect((await t.req("POST", PATHS.project + "/bulk", { variables: { PROJECT_SECRET: c.project }, secret: true }, key)).status).toBe(201);
    expect((await t.req("POST", PATHS.env, { name: "ENV_SECRET", value: "first-value", secret: true }, key)).status).toBe(201);
    expect((await t.req("PATCH", PATHS.env + "/ENV_SECRET", { value: c.env }, key)).status).toBe(200);
    expect((await t.req("POST", PATHS.service, { name: "SERVICE_SECRET", value: c.service, secret: true, buildtime: true }, key)).status).toBe(201);
    const ref = await t.req("POST", `/api/v1/configurations/${w.ids.api}`, { name: "REF_SECRET", value: c.reference, secret: true }, key);
    expect(ref.status).toBe(201);
    await t.req("POST", PATHS.service, { name: "TURNED", value: "was-plain" }, key);
    expect((await t.req("PATCH", `/api/v1/configurations/acme/web/api/TURNED`, { value: c.patched, secret: true }, key)).status).toBe(200);
    // also the failure paths: a refused write must not echo the value either
    expect((await t.req("PATCH", PATHS.org + "/ORG_SECRET", { value: c.org, secret: false }, key)).status).toBe(422);
    expect((await t.req("POST", PATHS.service, { name: "bad name", value: c.service, secret: true }, key)).status).toBe(422);
    const bulkErr = await t.req("POST", PATHS.env + "/bulk", { raw: `ENV_SECRET=${c.env}\nbroken ${c.env}`, secret: true }, key);
    expect(bulkErr.body.errors).toHaveLength(1);

    // every read route
    for (const path of Object.values(PATHS)) await t.req("GET", path, undefined, key);
    for (const name of ["ORG_SECRET"]) await t.req("GET", `${PATHS.org}/${name}`, undefined, key);
    await t.req("GET", `${PATHS.service}/SERVICE_SECRET`, undefined, key);
    await t.req("GET", PATHS.service + "/resolved", undefined, key);
    await t.req("GET", `/api/v1/configurations/${w.ids.api}`, undefined, key);
    await t.req("GET", `/api/v1/configurations/acme/web/api/${ref.body.id}`, undefined, key);
    await t.req("GET", "/api/v1/openapi.json", undefined, key);

    // the values are really stored: resolution decrypts every one of them
    const resolved = Object.fromEntries(resolveServiceConfig(t.deps, w.ids.api).map((v) => [v.name, v.value]));
    expect(resolved).toMatchObject({
      ORG_SECRET: c.org,
      TEAM_SECRET: c.team,
      PROJECT_SECRET: c.project,
      ENV_SECRET: c.env,
      SERVICE_SECRET: c.service,
      REF_SECRET: c.reference,
      TURNED: c.patched,
    });
    const bodies = t.bodies.join("\n");
    expect(t.bodies.length).toBeGreaterThan(20);
    for (const value of Object.values(c)) expect(bodies.includes(value)).toBe(false);
    expect(bodies).toContain("**secret**");

    // on disk: database and WAL before the checkpoint, database after it
    const db = join(t.dataDir, "ancla.db");
    const live = Buffer.concat([fileBytes(db), fileBytes(db + "-wal")]);
    expect(live.length).toBeGreaterThan(0);
    t.deps.sqlite.exec("PRAGMA wal_checkpoint(TRUNCATE)");
    const checkpointed = fileBytes(db);
    for (const value of Object.values(c)) {
      expect(live.includes(value)).toBe(false);
      expect(checkpointed.includes(value)).toBe(false);
    }
    // a plain value is stored in the clear, so the scan above would have found a leak
    await t.req("POST", PATHS.service, { name: "PLAIN_PROBE", value: "plain-probe-value-42" }, key);
    expect(Buffer.concat([fileBytes(db), fileBytes(db + "-wal")]).includes("plain-probe-value-42")).toBe(true);
  });
});

describe("redaction", () => {
  test("the server logger hides every stored secret, including ones set after start", async () => {
    const lines: string[] = [];
    const spy = spyOn(process.stderr, "write").mockImplementation(((chunk: string | Uint8Array) => {
      lines.push(String(chunk));
      return true;
    }) as never);
    const early = canary("early");
    const late = canary("late");
    const tokenValue = canary("token");
    try {
      // the real composition root and logger, over the test app's data dir
      await t.req("POST", PATHS.org, { name: "EARLY", value: early, secret: true }, { key: w.owner.key });
      const deps = createDeps(serveConfigSchema.parse({ dataDir: t.dataDir }));
      const app = createApp(deps);
      const post = (path: string, body: unknown) =>
        app.handle(new Request("http://localhost" + path, { method: "POST", headers: { "x-api-key": w.owner.key, "content-type": "application/json" }, body: JSON.stringify(body) }));
      expect((await post(PATHS.env, { name: "LATE", value: late, secret: true })).status).toBe(201);
      // not flagged secret, but the name says it is one
      expect((await post(PATHS.project, { name: "DEPLOY_TOKEN", value: tokenValue })).status).toBe(201);
      deps.logger.error("something failed", { detail: `connect with ${early} / ${late}`, env: { DEPLOY_TOKEN: tokenValue } });
      deps.logger.info(`plain message mentioning ${late}`);
      closeDeps(deps);
    } finally {
      spy.mockRestore();
    }
    const log = lines.join("");
    expect(log).toContain("config set"); // the write was logged, by name only
    expect(log).toContain("LATE");
    expect(log).toContain("something failed");
    expect(log).toContain("[redacted]");
    for (const value of [early, late, tokenValue]) expect(log.includes(value)).toBe(false);
  });

  test("error messages pass the redactor too (AppError and body validation)", async () => {
    const key = { key: w.owner.key };
    await t.req("POST", PATHS.org, { name: "SLUG_LIKE", value: "canary-slug-9f3k", secret: true }, key);
    await t.req("POST", PATHS.org, { name: "NAME_LIKE", value: "not-a-name-canary-7q", secret: true }, key);
    expect((await t.req("POST", "/api/v1/organizations", { name: "X", slug: "canary-slug-9f3k" }, key)).status).toBe(201);
    const conflict = await t.req("POST", "/api/v1/organizations", { name: "Y", slug: "canary-slug-9f3k" }, key);
    expect(conflict.status).toBe(409);
    expect(conflict.body.message).toBe("An organization with slug '[redacted]' already exists.");
    const invalid = await t.req("POST", PATHS.service, { name: "not-a-name-canary-7q", value: "v" }, key);
    expect(invalid.status).toBe(422);
    expect(invalid.text).toContain('\\"[redacted]\\" is not a valid name');
    expect(invalid.text).not.toContain("not-a-name-canary-7q");
  });

  test("serviceRedactor covers the service's resolved secrets and secret-looking names, not plain values", async () => {
    const key = { key: w.owner.key };
    await t.req("POST", PATHS.org, { name: "DB_PASSWORD", value: "org-db-password" }, key);
    await t.req("POST", PATHS.service, { name: "STRIPE", value: "sk_live_service", secret: true }, key);
    await t.req("POST", PATHS.env, { name: "GREETING", value: "hello-world" }, key);
    await t.req("POST", PATHS.soloService, { name: "OTHER_SECRET", value: "other-service-secret", secret: true }, key);
    await t.req("POST", PATHS.project, { name: "PASSWORD_RESET", value: "enabled" }, key);
    const redact = serviceRedactor(t.deps, w.ids.api);
    expect(redact("pw=org-db-password key=sk_live_service say hello-world")).toBe("pw=[redacted] key=[redacted] say hello-world");
    // a flag-like value kept only for its name does not blank out ordinary words
    expect(redact("feature enabled")).toBe("feature enabled");
    // another service's secret is still hidden (the server-wide set is applied too)
    expect(redact("x other-service-secret")).toBe("x [redacted]");
  });
});
