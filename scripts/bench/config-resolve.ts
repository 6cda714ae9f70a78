// Benchmark: resolved config of one service with 500 variables over the five scopes (100 each,
// names overlapping so every level overrides the one above; one in five secret). Prints p50/p99
// of GET …/config/resolved over real HTTP on 127.0.0.1 and of resolveServiceConfig (which also
// decrypts the secrets) side by side. Target: p99 ≤ 5 ms. Run: bun scripts/bench/config-resolve.ts
import { mkdtempSync, rmSync } from "node:fs";
import { loadavg, tmpdir } from "node:os";
import { join } from "node:path";
import { createApp } from "../../src/app";
import { serveConfigSchema } from "../../src/config";
import { closeDeps, createDeps } from "../../src/deps";
import { configVars, environments, projects, services, teams } from "../../src/db/schema";
import { newId } from "../../src/lib/ids";
import { silentLogger } from "../../src/lib/logger";
import { createUser } from "../../src/modules/auth/service";
import { createApiKey } from "../../src/modules/keys/service";
import { createOrg } from "../../src/modules/orgs/service";
import { resolveServiceConfig, resolveServiceRows } from "../../src/modules/config-vars/resolve";

const ITERATIONS = Number(process.env.ITERATIONS ?? 1000);
const WARMUP = 100;

const dataDir = mkdtempSync(join(tmpdir(), "ancla-bench-"));
const deps = createDeps(serveConfigSchema.parse({ dataDir }), { logger: silentLogger });
try {
  const user = await createUser(deps, { username: "bench", email: "bench@example.test", password: "bench-password" });
  const key = createApiKey(deps, user.id, { name: "bench" }).key;
  const org = createOrg(deps, { user, via: "key" }, { name: "Bench", slug: "bench" });
  const now = new Date().toISOString();
  const stamp = { createdAt: now, updatedAt: now };
  const team = newId();
  const project = newId();
  const env = newId();
  const service = newId();
  deps.db.insert(teams).values({ id: team, orgId: org.id, name: "t", slug: "t", ...stamp }).run();
  deps.db.insert(projects).values({ id: project, orgId: org.id, teamId: team, name: "p", slug: "p", ...stamp }).run();
  deps.db.insert(environments).values({ id: env, projectId: project, name: "e", slug: "e", envType: "production", isDefault: true, ...stamp }).run();
  deps.db.insert(services).values({ id: service, envId: env, projectId: project, name: "s", slug: "s", processCounts: { web: 1 }, processPodClasses: {}, domains: [], ...stamp }).run();
  const scopes = [["organization", org.id], ["team", team], ["project", project], ["environment", env], ["service", service]] as const;
  let n = 0;
  scopes.forEach(([scope, scopeId], level) => {
    for (let i = 0; i < 100; i++) {
      // names VAR_<level*50 + i>: each scope shares 50 names with the scope above it
      const secret = n++ % 5 === 0;
      const value = `value-${scope}-${i}-${"x".repeat(40)}`;
      deps.db.insert(configVars).values({ id: newId(), scope, scopeId, name: `VAR_${level * 50 + i}`, value: secret ? deps.secrets.seal(value) : value, secret, buildtime: i % 3 === 0, ...stamp }).run();
    }
  });

  const app = createApp(deps);
  app.listen({ hostname: "127.0.0.1", port: 0 });
  const url = `http://127.0.0.1:${app.server!.port}/api/v1/orgs/bench/projects/p/envs/e/services/s/config/resolved`;

  const time = async (fn: () => unknown | Promise<unknown>) => {
    for (let i = 0; i < WARMUP; i++) await fn();
    const samples: number[] = [];
    for (let i = 0; i < ITERATIONS; i++) {
      const t0 = performance.now();
      await fn();
      samples.push(performance.now() - t0);
    }
    samples.sort((a, b) => a - b);
    const at = (q: number) => samples[Math.min(samples.length - 1, Math.floor(q * samples.length))]!;
    return { p50: at(0.5), p99: at(0.99) };
  };

  let count = 0;
  const route = await time(async () => {
    const res = await fetch(url, { headers: { "x-api-key": key } });
    const body = (await res.json()) as unknown[];
    count = body.length;
  });
  const direct = await time(() => resolveServiceConfig(deps, service));
  const rowsOnly = await time(() => resolveServiceRows(deps, service));
  await app.stop(true);

  const fmt = (x: number) => x.toFixed(3).padStart(8);
  console.log(`config resolve: 500 variables over 5 scopes → ${count} resolved names, ${ITERATIONS} iterations each`);
  console.log(`                                   p50 ms    p99 ms`);
  console.log(`GET …/config/resolved (HTTP)     ${fmt(route.p50)}  ${fmt(route.p99)}`);
  console.log(`resolveServiceConfig (decrypts)  ${fmt(direct.p50)}  ${fmt(direct.p99)}`);
  console.log(`  of which query + precedence    ${fmt(rowsOnly.p50)}  ${fmt(rowsOnly.p99)}`);
  console.log(`load average during the run: ${loadavg().map((l) => l.toFixed(2)).join(" ")} (2 cores shared)`);
  console.log(`route / function p99 ratio: ${(route.p99 / direct.p99).toFixed(2)}x; target p99 ≤ 5 ms: ${route.p99 <= 5 && direct.p99 <= 5 ? "met" : "MISSED"}`);
} finally {
  closeDeps(deps);
  rmSync(dataDir, { recursive: true, force: true });
}
