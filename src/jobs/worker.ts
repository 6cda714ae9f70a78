// Runs queued jobs: oldest first, at most one job per service at a time (a service's later jobs
// wait behind its first, whatever their kind). Build concurrency is bounded separately, inside the
// build itself (build-slots.ts), so builds started by any pipeline job share the same limit.
//
// Start order matters: recoverInterruptedJobs finishes every job a previous process left
// `running` BEFORE the loop starts picking new work, so cleanup never races a fresh job.
import type { Deps } from "../deps";
import { isoNow } from "../deps";
import { getJob, INTERRUPTED, jobHandler, listJobs, markJob, setWaker, type JobRow } from "./queue";

export type Worker = { stop: (graceMs?: number) => Promise<void>; idle: () => Promise<void> };

const POLL_MS = 1000;

/** How long a start waits for one interrupted job's cleanup before letting it finish in the background. */
const RECOVERY_WAIT_MS = 5_000;

/**
 * Finish jobs left `running` by a previous process as error and run their kind's cleanup. With
 * `background`, a cleanup that takes longer than RECOVERY_WAIT_MS (a cluster that answers slowly
 * or not at all) goes on in the background and is recorded there by service, so the router and the
 * other services are not held up by one unreachable target; the worker keeps that service's jobs
 * waiting until it is done.
 */
export async function recoverInterruptedJobs(deps: Deps, background?: Map<string, Promise<void>>): Promise<JobRow[]> {
  const stale = listJobs(deps, ["running"]);
  for (const job of stale) {
    markJob(deps, job.id, { status: "error", error: INTERRUPTED, finishedAt: isoNow(deps) });
    const hook = jobHandler(job.kind)?.onInterrupted;
    if (!hook) continue;
    const cleanup = Promise.resolve()
      .then(() => hook(deps, job))
      .catch((e) => deps.logger.warn("cleanup of interrupted job failed", { job: job.id, kind: job.kind, error: (e as Error).message }));
    if (!background) {
      await cleanup;
      continue;
    }
    let done = false;
    void cleanup.then(() => (done = true));
    await Promise.race([cleanup, Bun.sleep(RECOVERY_WAIT_MS)]);
    if (done) continue;
    deps.logger.warn("cleanup of an interrupted job goes on in the background; the service's next jobs wait for it", { job: job.id, kind: job.kind, service: job.serviceId });
    const previous = background.get(job.serviceId) ?? Promise.resolve();
    background.set(job.serviceId, previous.then(() => cleanup));
  }
  return stale;
}

/**
 * Run one job already marked `running` with its kind's handler, then finish it as `complete` (with
 * the handler's result merged over what it saved on the way) or `error`. When `signal` is aborted
 * (the server stops) nothing more is written: the next start recovers the job as interrupted.
 */
export async function executeJob(deps: Deps, job: JobRow, signal: AbortSignal): Promise<void> {
  const handler = jobHandler(job.kind);
  let result: Record<string, unknown> = {};
  const saveResult = (patch: Record<string, unknown>) => {
    if (signal.aborted) return;
    result = { ...result, ...patch };
    markJob(deps, job.id, { result });
  };
  try {
    if (!handler) throw new Error(`no handler for job kind '${job.kind}'`);
    const out = await handler.run({ deps, job, signal, saveResult });
    if (signal.aborted) return; // stopped mid-job: the next start finishes it
    markJob(deps, job.id, { status: "complete", result: { ...result, ...(out ?? {}) }, finishedAt: isoNow(deps) });
  } catch (e) {
    if (signal.aborted) return;
    markJob(deps, job.id, { status: "error", error: (e as Error).message || "job failed", finishedAt: isoNow(deps) });
  }
}

/**
 * Run a queued job now, in the caller's turn (a pipeline runs its deploy job inside its own: the
 * worker never picks that job, because the service is busy with the pipeline).
 */
export async function runJobNow(deps: Deps, jobId: string, signal: AbortSignal): Promise<void> {
  const row = getJob(deps, jobId);
  if (!row || !jobHandler(row.kind)) throw new Error(`job ${jobId} cannot run`);
  markJob(deps, jobId, { status: "running", startedAt: isoNow(deps) });
  await executeJob(deps, { ...row, status: "running" }, signal);
}

export async function startWorker(deps: Deps): Promise<Worker> {
  const recovering = new Map<string, Promise<void>>(); // service id → its cleanup still running
  await recoverInterruptedJobs(deps, recovering);
  const running = new Map<string, { serviceId: string; controller: AbortController; done: Promise<void> }>();
  let stopping = false;
  let scheduled = false;
  for (const [serviceId, cleanup] of recovering) {
    void cleanup.then(() => {
      if (recovering.get(serviceId) === cleanup) recovering.delete(serviceId);
      wake();
    });
  }

  const pick = () => {
    scheduled = false;
    if (stopping) return;
    const busy = new Set([...running.values()].map((r) => r.serviceId).concat([...recovering.keys()]));
    for (const job of listJobs(deps, ["queued"])) {
      if (busy.has(job.serviceId)) continue;
      busy.add(job.serviceId); // later jobs of this service wait for this one
      markJob(deps, job.id, { status: "running", startedAt: isoNow(deps) });
      const controller = new AbortController();
      const done = executeJob(deps, { ...job, status: "running" }, controller.signal).finally(() => {
        running.delete(job.id);
        wake();
      });
      running.set(job.id, { serviceId: job.serviceId, controller, done });
    }
  };
  const wake = () => {
    if (scheduled || stopping) return;
    scheduled = true;
    queueMicrotask(() => {
      try {
        pick();
      } catch (e) {
        deps.logger.error("job scheduler failed", { error: (e as Error).message });
      }
    });
  };

  setWaker(deps, wake);
  const timer = setInterval(wake, POLL_MS);
  wake();

  return {
    /** Stop picking jobs, abort running ones (left `running` for the next start to recover). */
    async stop(graceMs = 10_000) {
      stopping = true;
      clearInterval(timer);
      setWaker(deps, null);
      for (const r of running.values()) r.controller.abort(new Error("server stopping"));
      const all = Promise.allSettled([...running.values()].map((r) => r.done).concat([...recovering.values()]));
      await Promise.race([all, Bun.sleep(graceMs)]);
    },
    async idle() {
      while (running.size > 0 || recovering.size > 0 || listJobs(deps, ["queued"]).length > 0) await Bun.sleep(50);
    },
  };
}
