// The release phase: a Procfile `release:` process runs once per deploy as a one-off with the new
// release's image, config and volumes, after the image is ready and before any new replica starts.
// Its output goes to the deploy log (the caller's log redacts it); a non-zero exit or a timeout
// fails the deployment while the previous release keeps serving. A release that already completed
// a deployment (a rollback, a redeploy) skips it unless the deployment asks for it.
import type { Deps } from "../../deps";
import { DeployFailed, type DeployTarget, type ReleaseRun } from "../../targets/target";
import type { DeploymentRow } from "./repo";
import * as repo from "./repo";

export const RELEASE_PROCESS = "release";
// at most this many output lines reach the deploy log (the rest is counted)
const MAX_LINES = 2000;

export function releasePhaseWanted(deps: Deps, d: DeploymentRow, processes: Record<string, string | null>): boolean {
  if (d.kind !== "deploy" || !processes[RELEASE_PROCESS]) return false;
  return d.metadata.run_release_phase === true || !repo.releaseWasDeployed(deps.db, d.serviceId, d.releaseId);
}

/** Runs the release phase; throws DeployFailed when it does not exit 0 in time. */
export async function runReleasePhase(
  target: DeployTarget,
  run: ReleaseRun,
  opts: { podClass: string; timeoutMs: number; signal: AbortSignal; log: (line: string) => void },
): Promise<void> {
  const command = run.processes[RELEASE_PROCESS]!;
  if (!target.runOnce) throw new DeployFailed(`The release phase cannot run on a ${target.kind} environment yet; remove the release process from the Procfile or deploy to Docker.`);
  opts.log(`Running the release phase: ${command}`);
  let pending = "";
  let lines = 0;
  const emit = (line: string) => {
    if (++lines <= MAX_LINES) opts.log(`release | ${line}`);
  };
  const result = await target.runOnce(
    { ...run, kind: "release", runId: run.deploymentId, command, podClass: opts.podClass, timeoutMs: opts.timeoutMs },
    {
      signal: opts.signal,
      output: (chunk) => {
        const parts = (pending + chunk).split(/\r?\n/);
        pending = parts.pop()!;
        parts.forEach(emit);
      },
    },
  );
  if (pending) emit(pending);
  if (lines > MAX_LINES) opts.log(`release | … ${lines - MAX_LINES} more line(s) not shown`);
  if (opts.signal.aborted) throw opts.signal.reason ?? new Error("aborted");
  const secs = (result.durationMs / 1000).toFixed(1);
  if (result.timedOut) throw new DeployFailed(`The release phase did not finish within ${Math.round(opts.timeoutMs / 1000)} s and was stopped; the previous release keeps serving.`);
  if (result.exitCode !== 0)
    throw new DeployFailed(`The release phase (${command}) exited with code ${result.exitCode ?? "unknown"} after ${secs} s; the previous release keeps serving.`);
  opts.log(`Release phase finished in ${secs} s`);
}
