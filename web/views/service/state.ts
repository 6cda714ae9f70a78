// What the service page knows about one service, refreshed cheaply while the page is visible:
// the pipeline status every 2 s; the service detail and history when that status changes (a
// deploy started from the CLI, a teammate, a promotion or a webhook shows within one poll).
import { api, paths } from "../../api";
import type { ReplicaView } from "./replicas";
import type { ServiceDetail } from "./settings";

export type Stage = { status: string; version: number | null; error_detail: string | null; step?: { name?: string; index?: number; total?: number } | null; id?: string | null } | null;
export type Status = { build: Stage; release: Stage; deploy: Stage };
export type Detail = ServiceDetail & { url?: string; replicas?: ReplicaView[]; latest_deployment?: Record<string, unknown> | null; latest_release?: Record<string, unknown> | null };

/** One build, deploy, rollback, redeploy or scale (GET …/services/{svc}/activity). */
export type Run = {
  id: string;
  kind: "build" | "deploy" | "rollback" | "redeploy" | "scale" | "run";
  status: "queued" | "running" | "complete" | "error";
  version: number;
  release_version: number | null;
  image_version: number | null;
  by: string | null;
  created: string;
  started: string | null;
  finished: string | null;
  duration_seconds: number | null;
  error_detail: string | null;
  log_path: string;
  /** a one-off run's command line */
  command?: string;
};
export type Activity = { live_release_version: number | null; live_deployment_id: string | null; items: Run[] };

export type Ctx = { org: string; project: string; env: string; service: string; base: string; admin: boolean; protectedEnv: boolean };

export const ACTIVE = new Set(["queued", "running"]);
export const isActive = (s: Status | null) => Boolean(s && [s.build, s.release, s.deploy].some((x) => x && ACTIVE.has(x.status)));
const POLL_MS = 2000;

export type Live = {
  ctx: Ctx;
  detail: Detail;
  status: Status | null;
  activity: Activity | null;
  /** called with what changed after each refresh */
  subscribe: (fn: (what: { detail: boolean; status: boolean; activity: boolean }) => void) => () => void;
  /** drop the subscriptions made since the last call (a tab's panels, when another tab opens) */
  newScope: () => void;
  /** keep the subscriptions made so far for the page's life */
  pin: () => void;
  /** poll now (after an action of this page) */
  poke: () => Promise<void>;
  stop: () => void;
};

const fingerprint = (s: Status | null) => JSON.stringify(s && [s.build, s.release, s.deploy].map((x) => x && [x.status, x.version, x.step?.index]));

export const activityPath = (c: Ctx, limit = 50) => `${c.base}/activity?limit=${limit}`;
export const statusPath = (c: Ctx) => `${paths.projectH(c.org, c.project)}/pipeline/status?${paths.qs({ service: c.service, env: c.env })}`;

export async function loadActivity(c: Ctx): Promise<Activity | null> {
  try {
    return await api.get<Activity>(activityPath(c));
  } catch {
    return null;
  }
}

/** Start following one service; stops by itself when `anchor` leaves the page. */
export function follow(ctx: Ctx, first: { detail: Detail; status: Status | null; activity: Activity | null }, anchor: () => boolean): Live {
  const subs = new Set<(w: { detail: boolean; status: boolean; activity: boolean }) => void>();
  let scoped: (typeof subs extends Set<infer F> ? F : never)[] = [];
  let timer: ReturnType<typeof setTimeout> | undefined;
  let stopped = false;
  let tick = 0;
  const live: Live = {
    ctx,
    detail: first.detail,
    status: first.status,
    activity: first.activity,
    subscribe: (fn) => (subs.add(fn), scoped.push(fn), () => subs.delete(fn)),
    newScope: () => {
      for (const fn of scoped) subs.delete(fn);
      scoped = [];
    },
    pin: () => void (scoped = []),
    poke: () => run(true),
    stop: () => ((stopped = true), clearTimeout(timer)),
  };
  const run = async (force = false): Promise<void> => {
    clearTimeout(timer);
    if (stopped) return;
    if (!anchor()) return live.stop();
    tick++;
    if (!document.hidden || force) {
      try {
        const status = await api.get<Status>(statusPath(ctx));
        const statusChanged = fingerprint(status) !== fingerprint(live.status);
        const active = isActive(status) || isActive(live.status);
        live.status = status;
        // the detail (replicas) every 3rd poll; everything when a run moves
        const wantDetail = force || statusChanged || active || tick % 3 === 0;
        const [detail, activity] = await Promise.all([
          wantDetail ? api.get<Detail>(ctx.base).catch(() => live.detail) : live.detail,
          force || statusChanged ? loadActivity(ctx) : Promise.resolve(live.activity),
        ]);
        const detailChanged = detail !== live.detail && JSON.stringify(detail) !== JSON.stringify(live.detail);
        const activityChanged = activity !== live.activity;
        live.detail = detail;
        live.activity = activity;
        if (statusChanged || detailChanged || activityChanged || force) for (const fn of subs) fn({ detail: detailChanged || force, status: statusChanged || force, activity: activityChanged || force });
      } catch {
        // keep the last view; the next poll tries again
      }
    }
    if (!stopped) timer = setTimeout(() => void run(), POLL_MS);
  };
  timer = setTimeout(() => void run(), POLL_MS);
  const onVisible = () => {
    if (!document.hidden) void run();
  };
  document.addEventListener("visibilitychange", onVisible);
  const stop = live.stop;
  live.stop = () => (document.removeEventListener("visibilitychange", onVisible), stop());
  return live;
}

/** The serving release: the latest complete deployment's (not the newest release). */
export function liveRelease(a: Activity | null): number | null {
  return a?.live_release_version ?? null;
}
