// The "deploy" job (registered by modules/wiring.ts): runs one queued deployment on its
// environment's target (targetFor: the interface of targets/target.ts), writes its steps and
// (redacted) log lines as it goes, and on restart cleans up what an interrupted one started.
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import type { DeploymentMetadata } from "../../db/schema";
import { createRedactor, type Redactor } from "../../lib/redact";
import { INTERRUPTED, type JobContext, type JobHandler, type JobRow } from "../../jobs/queue";
import { routeTableOf } from "../../router/table";
import { hostnamesFor } from "../../router/hosts";
import { DeployFailed, targetFor, TargetUnavailable, type DeployTarget } from "../../targets/target";
import { serviceRedactor } from "../config-vars/redaction";
import { findOrg } from "../orgs/repo";
import { findEnvById } from "../envs/repo";
import { findProjectById } from "../projects/repo";
import { findServiceById } from "../services/repo";
import { findRelease } from "../releases/repo";
import * as repo from "./repo";
import { DEPLOY_STEPS } from "./service";
import { refreshHosts, servingWeb } from "./routing";
import { openConfig, releaseRunOf } from "./replica-plan";
import { cleanupTargetOf } from "./targets";
import { requestedScale, restoreCountsAfterScale } from "./scale-counts";
import { requestReconcile } from "./self-healing";
import { seedSlots } from "./replicas";
import { releasePhaseWanted, runReleasePhase, RELEASE_PROCESS } from "./release-phase";

const DRAIN_MS = 30_000;
// after in-flight requests finished: a moment for responses already on the wire
const DRAIN_GRACE_MS = 300;

export function redactorFor(deps: Deps, serviceId: string, secretValues: string[]): Redactor {
  const own = createRedactor(secretValues);
  let service: Redactor = (s) => s;
  try {
    service = serviceRedactor(deps, serviceId);
  } catch {
    // a config value that no longer opens: the release's own secrets are still hidden
  }
  return (text) => service(own(text));
}

async function runDeployment({ deps, job, signal }: JobContext): Promise<Record<string, unknown>> {
  const id = String(job.payload.deploymentId ?? "");
  const d = repo.findDeployment(deps.db, id);
  if (!d) throw new Error("the deployment no longer exists");
  if (d.status !== "queued") return { deployment_id: id, skipped: d.status };
  const service = findServiceById(deps.db, d.serviceId);
  const env = service && findEnvById(deps.db, service.envId);
  const project = env && findProjectById(deps.db, env.projectId);
  const org = project && findOrg(deps.db, project.orgId);
  if (!service || !env || !project || !org) throw new Error("the service no longer exists");

  let release = findRelease(deps.db, d.releaseId);
  const current = repo.currentDeployment(deps.db, service.id);
  // a scale applies to whatever release serves when it runs (a deploy may have finished meanwhile)
  if (d.kind === "scale" && current && current.releaseId !== d.releaseId) release = findRelease(deps.db, current.releaseId);
  if (!release) throw new Error("the release no longer exists");

  let redact: Redactor = (s) => s;
  const log = (line: string) => {
    if (signal.aborted) return;
    for (const l of redact(line).split("\n")) repo.appendLog(deps.db, id, l, isoNow(deps));
  };
  // a scale runs with the counts it was asked for, even when another request changed the service since
  const wanted = requestedScale(d) ?? { process_counts: service.processCounts, process_pod_classes: service.processPodClasses };
  let metadata: DeploymentMetadata = {
    ...d.metadata,
    process_counts: wanted.process_counts,
    process_pod_classes: wanted.process_pod_classes,
    port: release.port,
    release_version: release.version,
  };
  const save = (patch: Partial<typeof d>) => {
    if (!signal.aborted) repo.updateDeployment(deps.db, id, { ...patch, updatedAt: isoNow(deps) });
  };
  save({ status: "running", startedAt: isoNow(deps), releaseId: release.id, metadata });

  const fail = (message: string): never => {
    // traffic stays on (or goes back to) the replicas of the current deployment
    routeTableOf(deps).setReplicas(service.id, servingWeb(deps, service.id));
    log(`Deployment failed: ${message}`);
    save({ status: "error", errorDetail: redact(message), finishedAt: isoNow(deps) });
    if (!signal.aborted) restoreCountsAfterScale(deps, { ...d, status: "error" });
    throw new Error(redact(message.split("\n")[0]!));
  };

  let target: DeployTarget;
  try {
    target = targetFor(deps, env);
  } catch (e) {
    if (e instanceof TargetUnavailable) return fail(e.message);
    throw e;
  }
  let opened: ReturnType<typeof openConfig>;
  try {
    opened = openConfig(deps, release.config);
  } catch {
    return fail("A secret of this release cannot be decrypted with the server's master key.");
  }
  redact = redactorFor(deps, service.id, opened.secretValues);
  log(d.kind === "scale" ? `Scaling release v${release.version} of ${service.slug}` : `Deploying release v${release.version} of ${service.slug} to ${env.slug}`);

  const run = releaseRunOf(deps, { org, project, env, service }, release, id, opened.vars);
  if (releasePhaseWanted(deps, d, release.processes)) {
    save({ deployStep: { name: "release", index: 0, total: DEPLOY_STEPS.length } });
    log("==> release");
    try {
      await runReleasePhase(target, run, { podClass: wanted.process_pod_classes[RELEASE_PROCESS] ?? "small", timeoutMs: service.deploymentTimeout * 1000, signal, log });
    } catch (e) {
      if (signal.aborted) throw e;
      return fail(e instanceof DeployFailed ? e.message : `The release phase could not run: ${(e as Error).message}`);
    }
  } else if (release.processes[RELEASE_PROCESS] && d.kind === "deploy") {
    log("Skipping the release phase: this release already ran it (ask for it with --run-release-phase)");
  }

  try {
    await target.rollout(
      {
        ...run,
        healthCheckPath: release.healthCheckPath,
        healthCheckHost: release.healthCheckHost,
        timeoutMs: service.deploymentTimeout * 1000,
        notFoundTimeoutMs: deps.config.healthNotFoundTimeout * 1000,
        counts: wanted.process_counts,
        podClasses: wanted.process_pod_classes,
        current: current?.metadata.replicas ?? [],
        inPlace: d.kind === "scale",
        // a cluster's Ingress routes these (the local router serves them from its own table)
        hostnames: hostnamesFor({ org: org.slug, project: project.slug, env: env.slug, service: service.slug, isDefaultEnv: env.isDefault, domains: service.domains }, deps.config.domain),
      },
      {
        signal,
        log,
        step: (name, index) => {
          save({ deployStep: { name, index, total: DEPLOY_STEPS.length } });
          log(`==> ${name}`);
        },
        started: (ids) => {
          metadata = { ...metadata, started: ids };
          save({ metadata });
        },
        switchTraffic: async (web) => {
          const table = routeTableOf(deps);
          const replaced = table.setReplicas(service.id, web);
          refreshHosts(deps);
          const drained = await table.drain(replaced, DRAIN_MS);
          if (!drained) log(`Some requests to the old replicas were still running after ${DRAIN_MS / 1000} s`);
          if (replaced.length) await Bun.sleep(DRAIN_GRACE_MS);
        },
        commit: (serving) => {
          if (signal.aborted) throw signal.reason ?? new Error("aborted");
          metadata = { ...metadata, replicas: serving };
          save({ status: "complete", metadata, finishedAt: isoNow(deps) });
          seedSlots(deps, service.id, serving, id);
          log(`Deployment complete: release v${release!.version} is serving`);
        },
      },
    );
  } catch (e) {
    if (signal.aborted) throw e; // stopping: the next start finishes this deployment as interrupted
    if (repo.findDeployment(deps.db, id)?.status === "complete") return { deployment_id: id }; // only old-replica cleanup failed
    fail(e instanceof DeployFailed ? e.message : `Deploy failed: ${(e as Error).message}`);
  }
  return { deployment_id: id };
}

/** After a crash: finish the deployment as error and remove the containers it started. */
async function onInterrupted(deps: Deps, job: JobRow): Promise<void> {
  const id = String(job.payload.deploymentId ?? "");
  const d = repo.findDeployment(deps.db, id);
  if (!d) return;
  if (d.status === "complete") return; // it committed before the crash; the start-up adoption removes stale replicas
  repo.appendLog(deps.db, id, `Deployment ${INTERRUPTED}; removing the replicas it started`, isoNow(deps));
  repo.updateDeployment(deps.db, id, { status: "error", errorDetail: INTERRUPTED, finishedAt: isoNow(deps), updatedAt: isoNow(deps) });
  restoreCountsAfterScale(deps, d);
  const target = cleanupTargetOf(deps, d.serviceId);
  if (target.recoverInterrupted) {
    // a declarative target: put back what served before this deployment started applying
    const log = (line: string) => repo.appendLog(deps.db, id, line, isoNow(deps));
    const started = performance.now();
    await target.recoverInterrupted(d.serviceId, id, log).catch((e) => log(`Could not restore the previous release on the cluster: ${(e as Error).message}`));
    deps.logger.info("interrupted deployment: the cluster is back on the previous release's objects", { deployment: id, ms: Math.round(performance.now() - started) });
    return;
  }
  const labelled = await target.findReplicas({ deploymentId: id });
  const ids = new Set([...labelled.map((c) => c.id), ...(d.metadata.started ?? [])]);
  await target.removeReplicas([...ids], 1);
  await target.stopOneOff?.(id); // a release phase it was running
}

/** Once a deployment ends, the self-healing loop looks at the service again (it skips it meanwhile). */
async function runThenReconcile(ctx: JobContext): Promise<Record<string, unknown>> {
  try {
    return await runDeployment(ctx);
  } finally {
    const d = repo.findDeployment(ctx.deps.db, String(ctx.job.payload.deploymentId ?? ""));
    if (d && !ctx.signal.aborted) requestReconcile(ctx.deps, d.serviceId);
  }
}

export const deployJob: JobHandler = { run: runThenReconcile, onInterrupted };
