// One-off runs (`POST …/services/{svc}/runs`, `ancla run --remote`): a container from the serving
// release's image, config, pod class limits, network and volumes runs one command; its output
// (redacted, capped) and exit code are recorded as it goes and the container is removed after.
// Runs happen beside the job queue: a long console must not hold up the service's deploys.
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import { Conflict, NotFound } from "../../errors";
import { newId } from "../../lib/ids";
import { offsetOf, pageOf, type PageQuery } from "../../lib/pagination";
import { assertMayDeploy } from "../envs/access";
import type { ServiceAccess } from "../services/access";
import { redactorFor } from "../deployments/runner";
import { cleanupTargetOf } from "../deployments/targets";
import { capableTarget, releaseRun, servingRelease } from "./release-run";
import * as repo from "./repo";
import type { RunInput } from "./model";

export const MAX_OUTPUT_CHARS = 1024 * 1024;
const MAX_RUNNING_PER_SERVICE = 5;
const FLUSH_MS = 250;
// runs still "running" from before this process started were cut off by a restart
const PROCESS_STARTED = new Date().toISOString();

export function startRun(deps: Deps, access: ServiceAccess, input: RunInput) {
  assertMayDeploy(access);
  const target = capableTarget(deps, access, "runOnce", "Running one-off commands");
  const release = servingRelease(deps, access);
  if (repo.countRunningRuns(deps.db, access.service.id) >= MAX_RUNNING_PER_SERVICE)
    throw new Conflict(`This service already has ${MAX_RUNNING_PER_SERVICE} runs in progress; wait for one to finish.`);
  const id = newId();
  const run = releaseRun(deps, access, release, id);
  const now = isoNow(deps);
  const row = repo.insertRun(deps.db, {
    id,
    serviceId: access.service.id,
    releaseId: release.id,
    releaseVersion: release.version,
    processType: input.process_type,
    command: input.command,
    status: "running",
    createdById: access.actor.user.id,
    createdAt: now,
  });
  const redact = redactorFor(deps, access.service.id, run.secretValues);
  const podClass = access.service.processPodClasses[input.process_type] ?? "small";
  let pending = "";
  let written = 0;
  let dropped = 0;
  const flush = () => {
    if (!pending) return;
    // redact whole lines where possible: a secret split across two flushes would slip through
    const cut = pending.lastIndexOf("\n") + 1 || pending.length;
    const text = redact(pending.slice(0, cut));
    pending = pending.slice(cut);
    const room = MAX_OUTPUT_CHARS - written;
    if (room <= 0) return void (dropped += text.length);
    repo.appendRunOutput(deps.db, id, text.slice(0, room));
    written += Math.min(room, text.length);
    dropped += Math.max(0, text.length - room);
  };
  const timer = setInterval(flush, FLUSH_MS);
  const { secretValues: _s, ...plan } = run;
  void target
    .runOnce({ ...plan, kind: "run", runId: id, command: input.command, podClass, timeoutMs: input.timeout_seconds * 1000 }, { signal: deps.shutdown.signal, output: (c) => void (pending += c) })
    .then(
      (r) => ({ ...r, error: null as string | null }),
      (e: Error) => ({ exitCode: null, timedOut: false, durationMs: 0, error: redact(e.message) }),
    )
    .then((r) => {
      clearInterval(timer);
      pending += "";
      flush();
      if (pending) (pending += "\n"), flush();
      if (dropped) repo.appendRunOutput(deps.db, id, `\n… ${dropped} more character(s) of output not kept\n`);
      const error = r.error ?? (r.timedOut ? `stopped after ${input.timeout_seconds} s (timeout)` : r.exitCode === null ? "stopped before it exited" : null);
      repo.updateRun(deps.db, id, {
        status: r.exitCode === 0 ? "succeeded" : r.error ? "error" : "failed",
        exitCode: r.exitCode,
        errorDetail: error,
        durationMs: r.durationMs,
        finishedAt: isoNow(deps),
      });
    })
    .catch((e) => deps.logger.warn("recording a run failed", { run: id, error: (e as Error).message }));
  return toRunView(deps, row);
}

export function toRunView(deps: Deps, r: repo.RunRow, username?: string | null) {
  const interrupted = r.status === "running" && r.createdAt < PROCESS_STARTED;
  if (interrupted) {
    repo.updateRun(deps.db, r.id, { status: "error", errorDetail: "interrupted by a server restart", finishedAt: isoNow(deps) });
    removeLeftover(deps, r.serviceId, r.id);
  }
  return {
    id: r.id,
    application_id: r.serviceId,
    release_id: r.releaseId,
    release_version: r.releaseVersion,
    process_type: r.processType,
    command: r.command,
    status: interrupted ? ("error" as const) : r.status,
    exit_code: r.exitCode,
    error_detail: interrupted ? "interrupted by a server restart" : r.errorDetail,
    duration_ms: r.durationMs,
    created_by: username !== undefined ? username : repo.usernameOf(deps.db, r.createdById),
    created: r.createdAt,
    finished: r.finishedAt,
    output: r.output,
  };
}

/** The container of a run a restart cut off, removed in the background. */
function removeLeftover(deps: Deps, serviceId: string, runId: string): void {
  try {
    void cleanupTargetOf(deps, serviceId)
      .stopOneOff?.(runId)
      .catch(() => {});
  } catch {
    // the environment's target is not available: nothing of it runs here
  }
}

export function getRun(deps: Deps, access: ServiceAccess, id: string) {
  const r = repo.findRun(deps.db, access.service.id, id);
  if (!r) throw new NotFound("Run");
  return toRunView(deps, r);
}

/** Newest first; the list leaves the output out (one request away). */
export function listRunPage(deps: Deps, access: ServiceAccess, q: PageQuery) {
  const rows = repo.listRuns(deps.db, access.service.id, q.per_page, offsetOf(q));
  return pageOf(
    rows.map(({ run, username }) => ({ ...toRunView(deps, run, username), output: null })),
    repo.countRuns(deps.db, access.service.id),
    q,
  );
}
