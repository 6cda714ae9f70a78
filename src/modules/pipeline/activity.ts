// Route: GET …/envs/{env}/services/{svc}/activity?limit= — one service's history for the
// dashboard: every build, every deployment (deploy, rollback, redeploy, scale) and every one-off run with who started
// it, when, how long it took, its result and where its log is; plus which release serves now.
// A deployment is a "rollback" when its release is older than the one serving before it, a
// "redeploy" when that release was deployed before (a restart, or back to a newer release).
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { usernamesOf } from "../auth/repo";
import { newestImages } from "../images/repo";
import { releaseVersionsOf } from "../releases/repo";
import { deploymentsInOrder } from "../deployments/repo";
import { withActor } from "../auth/context";
import { currentDeployment } from "../deployments/repo";
import { serviceAccess, type ServiceAccess } from "../services/access";
import { pipelineJobs } from "./repo";
import { countRuns, listRuns } from "../exec/repo";

export const activityRun = z.object({
  id: z.string(),
  kind: z.enum(["build", "deploy", "rollback", "redeploy", "scale", "run"]),
  status: z.enum(["queued", "running", "complete", "error"]),
  /** image version for a build, deployment number otherwise */
  version: z.number().int(),
  release_version: z.number().int().nullable(),
  image_version: z.number().int().nullable(),
  /** username; "ancla" for runs the server started itself (webhooks); null when unknown */
  by: z.string().nullable(),
  created: z.string(),
  started: z.string().nullable(),
  finished: z.string().nullable(),
  duration_seconds: z.number().nullable(),
  error_detail: z.string().nullable(),
  /** API path of its log ({log_text, status, …}) */
  log_path: z.string(),
  /** a one-off run's command line */
  command: z.string().optional(),
});
export const activityResponse = z.object({
  live_release_version: z.number().int().nullable(),
  live_deployment_id: z.string().nullable(),
  items: z.array(activityRun),
});
export type ActivityRun = z.infer<typeof activityRun>;

const seg = z.string().min(1).max(255);
const params = z.object({ org: seg, project: seg, env: seg, svc: seg });
const query = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });

const seconds = (a: string | null, b: string | null) => (a && b ? Math.max(0, (Date.parse(b) - Date.parse(a)) / 1000) : null);

export function serviceActivity(deps: Deps, access: ServiceAccess, limit: number): z.infer<typeof activityResponse> {
  const db = deps.db;
  const sid = access.service.id;
  const e = encodeURIComponent;
  const envPath = `/api/v1/orgs/${e(access.org.slug)}/projects/${e(access.project.slug)}/envs/${e(access.env.slug)}`;
  const svcPath = `${envPath}/services/${e(access.service.slug)}`;
  const builds = newestImages(db, sid, limit);
  // every deployment is read (they are few per service) so kinds are judged against the full past
  const deps_ = deploymentsInOrder(db, sid);
  const releaseVersion = new Map(releaseVersionsOf(db, sid).map((r) => [r.id, r]));
  const builtBy = new Map<string, string | null>();
  for (const j of pipelineJobs(db, sid, limit * 2)) {
    const p = j.payload as { imageId?: string; actorId?: string | null };
    if (p.imageId) builtBy.set(p.imageId, p.actorId ?? null);
  }
  const userIds = [...new Set([...deps_.map((d) => d.createdById), ...builtBy.values()].filter((x): x is string => Boolean(x)))];
  const names = new Map(usernamesOf(db, userIds).map((u) => [u.id, u.username]));
  const who = (id: string | null | undefined, known: boolean) => (id ? (names.get(id) ?? null) : known ? "ancla" : null);

  const runs: ActivityRun[] = [];
  for (const b of builds) {
    runs.push({
      id: b.id,
      kind: "build",
      status: b.status,
      version: b.version,
      release_version: null,
      image_version: b.version,
      by: who(builtBy.get(b.id), builtBy.has(b.id)),
      created: b.createdAt,
      started: b.startedAt,
      finished: b.finishedAt,
      duration_seconds: seconds(b.startedAt, b.finishedAt),
      error_detail: b.errorDetail,
      log_path: `${svcPath}/images/${b.version}/log`,
    });
  }
  const deployed = new Set<string>();
  let serving: number | null = null;
  const deploymentRuns: ActivityRun[] = [];
  for (const d of deps_) {
    const rel = releaseVersion.get(d.releaseId);
    const v = rel?.version ?? null;
    const kind: ActivityRun["kind"] = d.kind === "scale" ? "scale" : !deployed.has(d.releaseId) ? "deploy" : v !== null && serving !== null && v < serving ? "rollback" : "redeploy";
    if (d.kind !== "scale") deployed.add(d.releaseId);
    if (d.status === "complete") serving = v;
    deploymentRuns.push({
      id: d.id,
      kind,
      status: d.status,
      version: d.version,
      release_version: v,
      image_version: rel?.imageVersion ?? null,
      by: who(d.createdById, false),
      created: d.createdAt,
      started: d.startedAt,
      finished: d.finishedAt,
      duration_seconds: seconds(d.startedAt, d.finishedAt),
      error_detail: d.errorDetail,
      log_path: `${envPath}/deployments/${d.id}/log`,
    });
  }
  runs.push(...deploymentRuns.slice(-limit));
  // one-off runs (`ancla run --remote`), numbered in order of creation
  const oneOffs = listRuns(db, sid, limit, 0);
  const total = countRuns(db, sid);
  oneOffs.forEach(({ run: r, username }, i) => {
    runs.push({
      id: r.id,
      kind: "run",
      status: r.status === "running" ? "running" : r.status === "succeeded" ? "complete" : "error",
      version: total - i,
      release_version: r.releaseVersion,
      image_version: null,
      by: username ?? null,
      created: r.createdAt,
      started: r.createdAt,
      finished: r.finishedAt,
      duration_seconds: r.durationMs === null ? null : r.durationMs / 1000,
      error_detail: r.errorDetail ?? (r.status === "failed" ? `exited with code ${r.exitCode}` : null),
      log_path: `${svcPath}/runs/${r.id}/log`,
      command: r.command,
    });
  });
  // newest first; a build and the deployment it led to share a second: the deployment goes first
  runs.sort((a, b) => (a.created === b.created ? (a.kind === "build" ? 1 : -1) : a.created < b.created ? 1 : -1));
  const live = currentDeployment(db, sid);
  // the run that put the live release in place (a later scale keeps it, so it is not the marker)
  const liveRun = live && [...deps_].reverse().find((d) => d.status === "complete" && d.kind !== "scale" && d.releaseId === live.releaseId);
  return {
    live_release_version: live ? (releaseVersion.get(live.releaseId)?.version ?? null) : null,
    live_deployment_id: liveRun?.id ?? live?.id ?? null,
    items: runs.slice(0, limit),
  };
}

export const activityRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/orgs/:org/projects/:project/envs/:env/services/:svc", detail: { tags: ["pipeline"] } })
    .use(withActor(deps))
    .get("/activity", ({ actor, params: p, query: q }) => serviceActivity(deps, serviceAccess(deps, actor, p.org, p.project, p.env, p.svc), q.limit), {
      params,
      query,
      response: { 200: activityResponse },
      detail: { summary: "Builds and deployments of a service, newest first, with who, duration and log path" },
    });
