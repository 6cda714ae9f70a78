// A rollout on the Docker target, in this order: start the new replicas → health gate (web answers
// its health path on its 127.0.0.1 port, other processes stay up) → switch the router → drain →
// commit (the caller marks the deployment complete) → remove replicas no longer serving.
// Any failure before the switch removes what this rollout started and leaves traffic untouched.
import type { DockerClient } from "./client";
import * as engine from "./engine";
import { ensureVolumes } from "./volumes";
import { ensureProjectNetwork } from "./network";
import { desiredReplicas, LABEL, podClassOf, replicaSpec } from "./specs";
import { DeployFailed, isWebProcess, type RolloutHooks, type RolloutPlan, type ServingReplica } from "../target";

export { DeployFailed };

/** A rollout plan plus the labels every container and network of this server carries (--container-labels). */
export type DockerDeployPlan = RolloutPlan & { labels?: Record<string, string> };

const STABLE_MS = 2000;
// replaced replicas get SIGTERM after their requests drained, SIGKILL after this many seconds
const STOP_GRACE_S = 3;
const POLL_MS = 200;

function checkAborted(signal?: AbortSignal) {
  if (signal?.aborted) throw signal.reason ?? new Error("aborted");
}

/** One health request's outcome: the status it answered, or why it got none. */
export type ProbeResult = { status: number } | { error: string };

/** One health request to a replica on its loopback port. */
export async function probeStatus(port: number, path: string, host: string | null): Promise<ProbeResult> {
  try {
    const res = await fetch(`http://127.0.0.1:${port}${path}`, {
      headers: host ? { host } : {},
      redirect: "manual",
      signal: AbortSignal.timeout(2000),
    });
    await res.arrayBuffer().catch(() => {});
    return { status: res.status };
  } catch (e) {
    return { error: (e as Error).message };
  }
}

const isHealthy = (r: ProbeResult) => "status" in r && r.status >= 200 && r.status < 400;

/** One health request: null when healthy, else the reason. */
export async function probe(port: number, path: string, host: string | null): Promise<string | null> {
  const r = await probeStatus(port, path, host);
  return isHealthy(r) ? null : "status" in r ? `GET ${path} answered ${r.status}` : `GET ${path} failed: ${r.error}`;
}

// progress of a replica that is not healthy yet: one line per replica this often, and on a change
const PROGRESS_EVERY_MS = 5000;

/** A web replica's health probes so far: for progress lines and the early failure on a steady 404. */
type ProbeTrack = { lastLine: number; lastWhat: string; notFoundSince: number | null };

/** "GET /_health/ → 404" or "GET /_health/ → connection refused" */
function probeWords(path: string, r: ProbeResult): string {
  if ("status" in r) return `GET ${path} → ${r.status}`;
  const refused = /refused|ECONNREFUSED|connect/i.test(r.error);
  return `GET ${path} → ${refused ? "connection refused" : r.error}`;
}

/** Why a web replica that kept answering 404 failed the deploy, with the way out. */
function notFoundFailure(plan: DockerDeployPlan, label: string, seconds: number): DeployFailed {
  const target = `${plan.org}/${plan.project}/${plan.env}/${plan.service}`;
  return new DeployFailed(
    `${label} answered 404 to its health check GET ${plan.healthCheckPath} for ${seconds} s: the app does not serve that path. ` +
      `Serve it (any 2xx or 3xx answer), or point the health check at a path the app answers: ` +
      `ancla services update ${target} --health-check-path / (the previous release keeps serving).`,
  );
}

/**
 * Probe one web replica: null once healthy, else what it answered. Logs progress (a line when the
 * answer changes, else one per PROGRESS_EVERY_MS) and fails the rollout on a steady 404.
 */
async function probeWeb(plan: DockerDeployPlan, label: string, port: number, tracks: Map<string, ProbeTrack>, id: string, since: number, hooks: RolloutHooks): Promise<string | null> {
  const path = plan.healthCheckPath;
  const result = await probeStatus(port, path, plan.healthCheckHost);
  if (isHealthy(result)) {
    hooks.log(`${label} is healthy (GET ${path} on 127.0.0.1:${port})`);
    return null;
  }
  const now = Date.now();
  const track = tracks.get(id) ?? { lastLine: 0, lastWhat: "", notFoundSince: null };
  tracks.set(id, track);
  const what = probeWords(path, result);
  if (what !== track.lastWhat || now - track.lastLine >= PROGRESS_EVERY_MS) {
    hooks.log(`${label}: ${what}, ${Math.floor((now - since) / 1000)} s of ${Math.round(plan.timeoutMs / 1000)} s`);
    track.lastLine = now;
    track.lastWhat = what;
  }
  // a steady 404 is an app that does not serve the path, not one still starting: fail early
  track.notFoundSince = "status" in result && result.status === 404 ? (track.notFoundSince ?? now) : null;
  const limit = plan.notFoundTimeoutMs ?? 0;
  if (limit > 0 && track.notFoundSince !== null && now - track.notFoundSince >= limit) throw notFoundFailure(plan, label, Math.round((now - track.notFoundSince) / 1000));
  return "status" in result ? `GET ${path} answered ${result.status}` : `GET ${path} failed: ${result.error}`;
}

/** Waits until every new replica is healthy; throws DeployFailed with the reason otherwise. */
async function healthGate(docker: DockerClient, plan: DockerDeployPlan, fresh: ServingReplica[], hooks: RolloutHooks): Promise<void> {
  const deadline = Date.now() + plan.timeoutMs;
  const since = Date.now();
  const healthy = new Set<string>();
  const lastProblem = new Map<string, string>();
  const tracks = new Map<string, ProbeTrack>();
  for (;;) {
    checkAborted(hooks.signal);
    for (const r of fresh) {
      const state = await engine.inspectReplica(docker, r.id, plan.port);
      const label = `${r.process} replica ${r.replica}`;
      if (!state) throw new DeployFailed(`${label} disappeared before it became healthy.`);
      if (!state.running || state.restarting || state.restartCount > 0) {
        const tail = await engine.containerTail(docker, r.id, 15);
        // a restart policy brings it back at once: while running again the exit code is reset
        const why = state.oomKilled
          ? "was killed for exceeding its memory limit"
          : !state.running || state.restarting
            ? `exited with code ${state.exitCode ?? "?"}`
            : `exited and was restarted ${state.restartCount} time(s)`;
        throw new DeployFailed(`${label} ${why}.${tail ? `\nLast output:\n${tail}` : ""}`);
      }
      if (healthy.has(r.id)) continue;
      if (isWebProcess(r.process)) {
        r.hostPort = state.hostPort;
        if (!state.hostPort) {
          lastProblem.set(r.id, "no published port yet");
          continue;
        }
        const problem = await probeWeb(plan, label, state.hostPort, tracks, r.id, since, hooks);
        if (problem) lastProblem.set(r.id, problem);
        else healthy.add(r.id);
      } else if (Date.now() - since >= STABLE_MS) {
        healthy.add(r.id);
        hooks.log(`${label} is running`);
      }
    }
    if (healthy.size === fresh.length) return;
    if (Date.now() > deadline) {
      const pending = fresh.filter((r) => !healthy.has(r.id)).map((r) => `${r.process} replica ${r.replica}: ${lastProblem.get(r.id) ?? "not ready"}`);
      const refused = pending.some((p) => p.includes("failed:"));
      const hint = refused ? ` Is the web process listening on 0.0.0.0:$PORT (${plan.port})?` : "";
      throw new DeployFailed(`Health check timed out after ${Math.round(plan.timeoutMs / 1000)} s (${pending.join("; ")}).${hint}`);
    }
    await Bun.sleep(POLL_MS);
  }
}

export async function removeReplicas(docker: DockerClient, ids: string[], graceSeconds = 5): Promise<void> {
  await Promise.all(ids.map((id) => engine.removeContainer(docker, id, graceSeconds).catch(() => {})));
}

export async function deployToDocker(docker: DockerClient, plan: DockerDeployPlan, hooks: RolloutHooks): Promise<ServingReplica[]> {
  hooks.step("prepare", 1);
  const network = await ensureProjectNetwork(docker, plan, plan.labels);
  const volumes = await ensureVolumes(docker, plan, plan.labels);
  const wanted = desiredReplicas(plan.processes, plan.counts);
  const keep = plan.inPlace
    ? plan.current.filter(
        (r) => r.releaseId === plan.releaseId && wanted.some((w) => w.process === r.process && w.replica === r.replica) && podClassOf(plan.podClasses[r.process]) === podClassOf(r.podClass),
      )
    : [];
  const toStart = wanted.filter((w) => !keep.some((k) => k.process === w.process && k.replica === w.replica));
  hooks.log(`Replicas wanted: ${summarize(wanted)}${keep.length ? `; keeping ${keep.length} running` : ""}`);

  hooks.step("start", 2);
  const fresh: ServingReplica[] = [];
  try {
    // all replicas start at once; each is recorded as soon as it exists
    const startOne = async (w: { process: string; replica: number }) => {
      checkAborted(hooks.signal);
      const podClass = podClassOf(plan.podClasses[w.process]);
      const spec = replicaSpec({
        org: plan.org,
        project: plan.project,
        env: plan.env,
        service: plan.service,
        serviceId: plan.serviceId,
        releaseId: plan.releaseId,
        releaseVersion: plan.releaseVersion,
        deploymentId: plan.deploymentId,
        process: w.process,
        replica: w.replica,
        image: plan.image,
        command: plan.processes[w.process] ?? null,
        vars: plan.vars,
        port: plan.port,
        podClass,
        privileged: plan.privileged,
        network,
        labels: plan.labels,
        volumes,
      });
      const id = await engine.startContainer(docker, spec);
      fresh.push({ id, process: w.process, replica: w.replica, hostPort: null, deploymentId: plan.deploymentId, podClass, releaseId: plan.releaseId });
      hooks.started(fresh.map((r) => r.id));
      hooks.log(`Started ${w.process} replica ${w.replica} (${podClass}, container ${id.slice(0, 12)})`);
    };
    const results = await Promise.allSettled(toStart.map(startOne));
    const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
    if (failed) throw failed.reason;
    fresh.sort((a, b) => (a.process < b.process ? -1 : a.process > b.process ? 1 : a.replica - b.replica));
    hooks.step("health", 3);
    if (fresh.length) await healthGate(docker, plan, fresh, hooks);
  } catch (e) {
    if (hooks.signal?.aborted) throw e; // the next start cleans up by label
    await removeReplicas(docker, fresh.map((r) => r.id), 1);
    if (e instanceof DeployFailed) throw e;
    throw new DeployFailed(`Could not start the new replicas: ${(e as Error).message}`);
  }

  hooks.step("switch", 4);
  const serving = [...keep, ...fresh];
  const web = serving.filter((r) => isWebProcess(r.process) && r.hostPort).map((r) => ({ id: r.id, port: r.hostPort! }));
  await hooks.switchTraffic(web);
  hooks.log(`Traffic switched to ${web.length} web replica(s)`);
  hooks.commit(serving);

  hooks.step("cleanup", 5);
  const servingIds = new Set(serving.map((r) => r.id));
  const stale = (await engine.listManaged(docker, [`${LABEL.serviceId}=${plan.serviceId}`])).filter((c) => !servingIds.has(c.id));
  await removeReplicas(docker, stale.map((c) => c.id), STOP_GRACE_S);
  if (stale.length) hooks.log(`Removed ${stale.length} replica(s) no longer serving`);
  return serving;
}

function summarize(wanted: { process: string }[]): string {
  const counts = new Map<string, number>();
  for (const w of wanted) counts.set(w.process, (counts.get(w.process) ?? 0) + 1);
  return [...counts].map(([p, n]) => `${p}=${n}`).join(", ") || "none";
}
