// The durable job queue (SQLite `jobs` table). Jobs are rows; the worker (worker.ts) runs them.
//
// Handlers are registered per job kind in a process-wide table (`registerJobHandler`): a handler
// is code, not state, so one table serves every Deps (tests run several apps in one process).
// Every kind is registered in one place, modules/wiring.ts (build, deploy, pipeline).
import { and, asc, count, eq, inArray } from "drizzle-orm";
import type { Deps } from "../deps";
import { isoNow } from "../deps";
import { jobs } from "../db/schema";
import { newId } from "../lib/ids";

export type JobRow = typeof jobs.$inferSelect;

export type JobContext = {
  deps: Deps;
  job: JobRow;
  /** Aborted when the server stops: finish nothing, write nothing; the next start recovers the job. */
  signal: AbortSignal;
  /** Merge fields into the job's stored result right away (e.g. ids of containers to clean up). */
  saveResult: (patch: Record<string, unknown>) => void;
};

export type JobHandler = {
  /** Runs the job; its return value is stored as the result. Throwing finishes the job as `error`. */
  run: (ctx: JobContext) => Promise<Record<string, unknown> | void>;
  /**
   * Cleanup for a job found `running` at start (the server stopped or crashed mid-job). Called
   * after the job row is already finished as error "interrupted by server restart".
   */
  onInterrupted?: (deps: Deps, job: JobRow) => Promise<void>;
};

export const INTERRUPTED = "interrupted by server restart";

const handlers = new Map<string, JobHandler>();

export function registerJobHandler(kind: string, handler: JobHandler): void {
  handlers.set(kind, handler);
}
export const jobHandler = (kind: string): JobHandler | undefined => handlers.get(kind);

// the running worker of a Deps, so enqueueJob can wake it without polling delay
const wakers = new WeakMap<object, () => void>();
export function setWaker(deps: Deps, wake: (() => void) | null): void {
  if (wake) wakers.set(deps.db, wake);
  else wakers.delete(deps.db);
}

export function enqueueJob(deps: Deps, input: { serviceId: string; kind: string; payload?: Record<string, unknown> }, db = deps.db): JobRow {
  const row = db
    .insert(jobs)
    .values({ id: newId(), serviceId: input.serviceId, kind: input.kind, status: "queued", payload: input.payload ?? {}, createdAt: isoNow(deps) })
    .returning()
    .get();
  queueMicrotask(() => wakers.get(deps.db)?.());
  return row;
}

export const getJob = (deps: Deps, id: string): JobRow | undefined => deps.db.select().from(jobs).where(eq(jobs.id, id)).get();

export const listJobs = (deps: Deps, status: JobRow["status"][]) =>
  deps.db.select().from(jobs).where(inArray(jobs.status, status)).orderBy(asc(jobs.createdAt), asc(jobs.id)).all();

/** Queued or running jobs of one service, oldest first. */
export const pendingJobsOf = (deps: Deps, serviceId: string, kind?: string) =>
  deps.db
    .select()
    .from(jobs)
    .where(and(eq(jobs.serviceId, serviceId), inArray(jobs.status, ["queued", "running"]), kind ? eq(jobs.kind, kind) : undefined))
    .orderBy(asc(jobs.createdAt), asc(jobs.id))
    .all();

/** Queued and running jobs counted by kind and status (status pages, metrics). */
export const countPendingJobs = (deps: Deps): { kind: string; status: string; n: number }[] =>
  deps.db.select({ kind: jobs.kind, status: jobs.status, n: count() }).from(jobs).where(inArray(jobs.status, ["queued", "running"])).groupBy(jobs.kind, jobs.status).all();

export function markJob(deps: Deps, id: string, patch: Partial<typeof jobs.$inferInsert>): void {
  deps.db.update(jobs).set(patch).where(eq(jobs.id, id)).run();
}

/** Resolves with the finished job (complete or error); for tests and the CLI-facing follow paths. */
export async function waitForJob(deps: Deps, id: string, timeoutMs = 120_000): Promise<JobRow> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const job = getJob(deps, id);
    if (!job) throw new Error(`job ${id} does not exist`);
    if (job.status === "complete" || job.status === "error") return job;
    if (Date.now() > deadline) throw new Error(`job ${id} still ${job.status} after ${timeoutMs} ms`);
    await Bun.sleep(50);
  }
}
