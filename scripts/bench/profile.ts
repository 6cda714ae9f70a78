// Where a hot route's time goes, in process (no sockets): each route through app.handle, and its
// stages timed apart — the caller lookup (resolveActor), the route's own work (access checks,
// queries, shaping: the service call), response validation (the route's zod schema), JSON
// serialisation — the rest being Elysia (routing, hooks, context, Response). "normal" is a request
// that takes that path (the answer cache emptied before each); "repeat" the same request again,
// answered from the answer cache (src/modules/auth/answer-cache.ts) inside Elysia's onRequest hook
// (app.handle), "front" the same repeat answered by the live listener's front handler before
// Elysia (src/front.ts); "health" the unauthenticated floor, through Elysia and through the front.
// Medians of µs per request over interleaved batches. For a flame graph: bun --cpu-prof scripts/bench/profile.ts
// Usage: bun scripts/bench/profile.ts [--iterations 2000]
import { z } from "zod";
import { createApp } from "../../src/app";
import { frontFetch } from "../../src/front";
import { serveConfigSchema } from "../../src/config";
import { closeDeps, createDeps, type Deps } from "../../src/deps";
import { silentLogger } from "../../src/lib/logger";
import { resolveActor, type Actor } from "../../src/modules/auth/service";
import { answerCacheHits, dropAnswers } from "../../src/modules/auth/answer-cache";
import { listOrgs, getOrg } from "../../src/modules/orgs/service";
import { orgDetail, orgSummary } from "../../src/modules/orgs/model";
import { listApplicationsResponse } from "../../src/modules/applications/service";
import { envDeploymentsResponse } from "../../src/modules/deployments/service";
import { resolvedVars } from "../../src/modules/config-vars/service";
import { fmt, removeDir, seed } from "./lib";
import { loadAverage, median } from "./wrk";

const i = process.argv.indexOf("--iterations");
const ITER = i > 0 ? Number(process.argv[i + 1]) : 2000;

type Route = {
  label: string;
  path: string;
  /** the route's own work: what its handler calls */
  work: (deps: Deps, actor: Actor) => unknown;
  /** the schema Elysia validates its 200 answer with (none when the handler returns a Response) */
  schema?: z.ZodType;
};
const ROUTES: Route[] = [
  { label: "organizations", path: "/api/v1/organizations", work: (d, a) => listOrgs(d, a), schema: z.array(orgSummary) },
  { label: "organizations/{org}", path: "/api/v1/organizations/acme", work: (d, a) => getOrg(d, a, "acme"), schema: orgDetail },
  { label: "applications/{org}/{project} (100)", path: "/api/v1/applications/acme/web", work: (d, a) => listApplicationsResponse(d, a, "acme", "web") },
  {
    label: "env deployments (50)",
    path: "/api/v1/orgs/acme/projects/web/envs/production/deployments",
    work: (d, a) => envDeploymentsResponse(d, a, { org: "acme", project: "web", env: "production" }),
  },
  {
    label: "config/resolved (40 vars)",
    path: "/api/v1/orgs/acme/projects/web/envs/production/services/svc-0/config/resolved",
    work: (d, a) => resolvedVars(d, a, { scope: "service", org: "acme", project: "web", env: "production", svc: "svc-0" }),
  },
];

console.log("seeding …");
const seeded = await seed({ services: 100, configPerScope: 10, deployments: 60 });
const deps = createDeps(serveConfigSchema.parse({ dataDir: seeded.dataDir }), { logger: silentLogger });
const app = createApp(deps);
const front = frontFetch(deps, app);
const headers = { "x-api-key": seeded.memberKey };
const request = (path: string) => new Request("http://127.0.0.1" + path, { headers });

/**
 * CPU µs per call of fn (this process's user + system time, so other work on a shared machine
 * does not count), median of 5 batches of ITER/5.
 */
async function time(fn: () => unknown): Promise<number> {
  const batches: number[] = [];
  const n = Math.max(1, Math.floor(ITER / 5));
  for (let b = 0; b < 5; b++) {
    const t0 = process.cpuUsage();
    for (let k = 0; k < n; k++) {
      const r = fn();
      if (r instanceof Promise) await r;
    }
    const d = process.cpuUsage(t0);
    batches.push((d.user + d.system) / n);
  }
  return median(batches);
}

try {
  const actor = resolveActor(deps, request("/"))!;
  console.log(`load average ${loadAverage()}; ${ITER} requests per stage per route, in process, CPU time\n`);
  const health = async () => {
    const res = await app.handle(new Request("http://127.0.0.1/api/v1/integrations/health"));
    await res.arrayBuffer();
  };
  const frontHealth = async () => {
    const res = await front(new Request("http://127.0.0.1/api/v1/integrations/health"));
    await res.arrayBuffer();
  };
  for (let w = 0; w < 200; w++) await health(), await frontHealth();
  console.log(`health (no auth, the floor): ${fmt(await time(health), 1)} µs per request through Elysia, ${fmt(await time(frontHealth), 1)} µs answered by the front\n`);
  console.log("route                                  front  repeat  normal   caller  route work  response check  JSON   Elysia & rest  (µs per request)");
  for (const r of ROUTES) {
    const full = async () => {
      const res = await app.handle(request(r.path));
      if (res.status !== 200) throw new Error(`${r.path} → ${res.status}`);
      await res.arrayBuffer();
    };
    const normal = async () => {
      dropAnswers(deps.sqlite);
      await full();
    };
    for (let w = 0; w < 200; w++) await normal(); // warm up JIT and statement caches
    const fronted = async () => {
      const res = await front(request(r.path));
      if (res.status !== 200) throw new Error(`${r.path} → ${res.status}`);
      await res.arrayBuffer();
    };
    for (let w = 0; w < 200; w++) await full(), await fronted();
    const hits = answerCacheHits(deps.sqlite);
    const repeat = await time(full);
    if (answerCacheHits(deps.sqlite) === hits) throw new Error(`${r.path}: repeats were not answered from the answer cache`);
    const frontHits = answerCacheHits(deps.sqlite);
    const frontRepeat = await time(fronted);
    if (answerCacheHits(deps.sqlite) === frontHits) throw new Error(`${r.path}: the front answered no repeat from the answer cache`);
    const value = r.work(deps, actor);
    const body = value instanceof Response ? undefined : value;
    const total = await time(normal);
    const caller = await time(() => resolveActor(deps, request(r.path)));
    const work = await time(() => {
      const v = r.work(deps, actor);
      return v instanceof Response ? v.arrayBuffer() : v;
    });
    const check = r.schema && body !== undefined ? await time(() => r.schema!["~standard"].validate(body)) : 0;
    const json = body !== undefined ? await time(() => JSON.stringify(body)) : 0;
    const rest = total - caller - work - check - json;
    console.log(
      [r.label.padEnd(36), fmt(frontRepeat, 1).padStart(6), fmt(repeat, 1).padStart(7), fmt(total, 0).padStart(7), fmt(caller, 0).padStart(7), fmt(work, 0).padStart(10), fmt(check, 0).padStart(15), fmt(json, 0).padStart(6), fmt(rest, 0).padStart(14)].join(" "),
    );
  }
  console.log(`\nload average ${loadAverage()}`);
} finally {
  closeDeps(deps);
  removeDir(seeded.dataDir);
}
