// Runs queued jobs: oldest first, at most one job per service at a time (a service's later jobs
// wait behind its first, whatever their kind). Build concurrency is bounded separately, inside the
// build itself (build-slots.ts), so builds started by any pipeline job share the same limit.
//
// Start order matters: recoverInterruptedJobs finishes every job a previous process left
// `running` BEFORE the loop starts picking new work, so cleanup never races a fresh job.
import type { Deps } from "../deps";
import { isoNow } from "../deps";
import { INTERRUPTED, jobHandler, listJobs, markJob, setWaker, type JobRow } from "./queue";

export type Worker = { stop: (graceMs?: number) => Promise<void>; idle: () => Promise<void> };

const POLL_MS = 1000;

/** Finish jobs left `running` by a previous process as error and run their kind's cleanup. */
export async function recoverInterruptedJobs(deps: Deps): Promise<JobRow[]> {
  const stale = listJobs(deps, ["running"]);
  for (const job of stale) {
    markJob(deps, job.id, { status: "error", error: INTERRUPTED, finishedAt: isoNow(deps) });
    const hook = jobHandler(job.kind)?.onInterrupted;
    if (!hook) continue;
    try {
      await hook(deps, job);
    } catch (e) {
      deps.logger.warn("cleanup of interrupted job failed", { job: job.id, kind: job.kind, error: (e as Error).message });
    }
  }
  return stale;
}

export async function startWorker(deps: Deps): Promise<Worker> {
  await recoverInterruptedJobs(deps);
  const running = new Map<string, { serviceId: string; controller: AbortController; done: Promise<void> }>();
  let stopping = false;
  let scheduled = false;

  const execute = async (job: JobRow, controller: AbortController) => {
    const handler = jobHandler(job.kind);
    const signal = controller.signal;
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
  };

  const pick = () => {
    scheduled = false;
    if (stopping) return;
    const busy = new Set([...running.values()].map((r) => r.serviceId));
    for (const job of listJobs(deps, ["queued"])) {
      if (busy.has(job.serviceId)) continue;
      busy.add(job.serviceId); // later jobs of this service wait for this one
      markJob(deps, job.id, { status: "running", startedAt: isoNow(deps) });
      const controller = new AbortController();
      const done = execute({ ...job, status: "running" }, controller).finally(() => {
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
      const all = Promise.allSettled([...running.values()].map((r) => r.done));
      await Promise.race([all, Bun.sleep(graceMs)]);
    },
    async idle() {
      while (running.size > 0 || listJobs(deps, ["queued"]).length > 0) await Bun.sleep(50);
    },
  };
}
