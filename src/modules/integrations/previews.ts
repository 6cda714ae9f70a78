// Preview environments: a pull request opened/reopened on a project with previews enabled gets an
// ephemeral environment `pr-<n>` cloned from the source environment (its settings and env-level
// config, secrets copied still sealed; the services that build from this repository with their
// own config, without custom domains), built from the PR head and deployed; synchronize builds the
// new head; closed removes everything (replicas, routes, images, rows). A sweeper removes previews
// idle longer than ttl_hours, and watches deploying ones to mark them ready/failed (and tell
// GitHub through a commit status when a token is configured).
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import { Conflict, Forbidden, NotFound } from "../../errors";
import { newId } from "../../lib/ids";
import { markJob, pendingJobsOf, waitForJob } from "../../jobs/queue";
import type { ServiceNames } from "../../lib/image-names";
import { removeServiceImage } from "../../targets/docker/build";
import type { Actor } from "../auth/service";
import * as configRepo from "../config-vars/repo";
import { refreshHosts, teardownService } from "../deployments/routing";
import { envHooks } from "../envs/hooks";
import * as envRepo from "../envs/repo";
import * as imageRepo from "../images/repo";
import { findOrg } from "../orgs/repo";
import { pipelineJobs } from "../pipeline/repo";
import { startSystemPipeline } from "../pipeline/service";
import { patchProject } from "../projects/service";
import { projectAccess } from "../projects/access";
import { findProjectById } from "../projects/repo";
import * as serviceRepo from "../services/repo";
import * as repo from "./repo";
import { postCommitStatus } from "./github-api";
import type { Candidate, EventFields, ProjectOutcome } from "./webhooks";

export type PreviewSettings = { enabled: boolean; source_env: string | null; ttl_hours: number };
export type PreviewView = { number: number; env: string; status: string; error: string | null; head_sha: string | null; urls: string[]; created: string; last_activity: string };

const envSlug = (n: number) => `pr-${n}`;

export function previewSettings(deps: Deps, actor: Actor | null, org: string, project: string): PreviewSettings {
  const p = projectAccess(deps, actor, org, project);
  const row = repo.findProjectIntegration(deps.db, p.project.id);
  return { enabled: p.project.previewsEnabled, source_env: row?.previewSourceEnv ?? null, ttl_hours: row?.previewTtlHours ?? 72 };
}

export function setPreviewSettings(deps: Deps, actor: Actor | null, org: string, project: string, input: Partial<PreviewSettings>): PreviewSettings {
  const p = projectAccess(deps, actor, org, project);
  if (!p.isAdmin) throw new Forbidden("Only organization admins may change preview settings.");
  if (input.source_env) {
    const env = envRepo.findEnv(deps.db, p.project.id, input.source_env);
    if (!env) throw new NotFound("Environment");
    if (env.ephemeral) throw new Conflict("A preview environment cannot be the source of previews.");
  }
  deps.db.transaction(() => {
    if (input.enabled !== undefined) patchProject(deps, actor, org, project, { previews_enabled: input.enabled });
    const patch: Parameters<typeof repo.upsertProjectIntegration>[2] = { updatedAt: isoNow(deps) };
    if (input.source_env !== undefined) patch.previewSourceEnv = input.source_env;
    if (input.ttl_hours !== undefined) patch.previewTtlHours = input.ttl_hours;
    repo.upsertProjectIntegration(deps.db, p.project.id, patch);
  });
  return previewSettings(deps, actor, org, project);
}

function hostsOf(deps: Deps, projectId: string, envId: string): string[] {
  const project = findProjectById(deps.db, projectId)!;
  const org = findOrg(deps.db, project.orgId)!;
  const env = envRepo.findEnvById(deps.db, envId);
  if (!env) return [];
  return serviceRepo.listServicesInEnv(deps.db, envId).map((s) => `${s.slug}.${env.slug}.${project.slug}.${org.slug}.${deps.config.domain}`);
}

export function previewView(deps: Deps, row: repo.PreviewRow): PreviewView {
  return { number: row.number, env: envSlug(row.number), status: row.status, error: row.error, head_sha: row.headSha, urls: hostsOf(deps, row.projectId, row.envId).map((h) => `http://${h}`), created: row.createdAt, last_activity: row.lastActivityAt };
}

export function listPreviews(deps: Deps, actor: Actor | null, org: string, project: string): { items: PreviewView[] } {
  const p = projectAccess(deps, actor, org, project);
  return { items: repo.listPreviews(deps.db, p.project.id).map((r) => previewView(deps, r)) };
}

/** The new environment and its services, copied from `source` inside the delivery's transaction. */
function clonePreview(deps: Deps, projectId: string, source: envRepo.EnvRow, services: Candidate[], n: number, now: string): envRepo.EnvRow {
  const { id: _id, slug: _s, name: _n, isDefault: _d, protected: _p, autoDeployBranch: _a, ephemeral: _e, envType: _t, createdAt: _c, updatedAt: _u, ...settings } = source;
  const env = envRepo.insertEnv(deps.db, { ...settings, id: newId(), projectId, slug: envSlug(n), name: envSlug(n), envType: "preview", isDefault: false, protected: false, autoDeployBranch: null, ephemeral: true, createdAt: now, updatedAt: now });
  const copyVars = (scope: "environment" | "service", from: string, to: string) => {
    for (const v of configRepo.listAtScope(deps.db, { scope, scopeId: from })) configRepo.insertVar(deps.db, { ...v, id: newId(), scopeId: to, createdAt: now, updatedAt: now });
  };
  copyVars("environment", source.id, env.id);
  for (const c of services) {
    const { id: _sid, envId: _eid, domains: _dom, autoDeployBranch: _ab, createdAt: _sc, updatedAt: _su, ...svc } = c.service;
    const copy = serviceRepo.insertService(deps.db, { ...svc, id: newId(), envId: env.id, domains: [], autoDeployBranch: null, buildRef: null, createdAt: now, updatedAt: now });
    copyVars("service", c.service.id, copy.id);
    // a private repository's deploy key / token (still sealed) and its pinned host keys
    const creds = repo.findGitCredentials(deps.db, c.service.id);
    if (creds) {
      const { serviceId: _cs, createdAt: _cc, ...rest } = creds;
      repo.upsertGitCredentials(deps.db, copy.id, { ...rest, updatedAt: now });
    }
  }
  return env;
}

/** A pull_request delivery for one verified project. Runs inside the delivery's transaction. */
export function handlePullRequest(deps: Deps, projectId: string, services: Candidate[], f: EventFields): ProjectOutcome {
  const project = findProjectById(deps.db, projectId);
  const n = f.payload.number as number | null;
  if (!project?.previewsEnabled) return { status: "ignored", message: "Previews are not enabled for this project.", pipelineIds: [] };
  if (!n) return { status: "ignored", message: "The pull request has no number.", pipelineIds: [] };
  const existing = repo.findPreview(deps.db, projectId, n);
  const now = isoNow(deps);
  if (f.action === "closed") {
    if (!existing) return { status: "ignored", message: `No preview of pull request #${n} to remove.`, pipelineIds: [] };
    repo.updatePreview(deps.db, existing.envId, { status: "removing", lastActivityAt: now });
    queueMicrotask(() => void removePreview(deps, existing.envId));
    return { status: "accepted", message: `Removing the preview of pull request #${n} (${envSlug(n)}).`, pipelineIds: [] };
  }
  if (!["opened", "reopened", "synchronize"].includes(f.action ?? "")) return { status: "ignored", message: `pull_request '${f.action}' does not change previews.`, pipelineIds: [] };
  if (!f.sha) return { status: "ignored", message: "The pull request has no head commit.", pipelineIds: [] };
  if (f.payload.from_fork === true) return { status: "ignored", message: `Pull request #${n} comes from a fork: no preview (it would run code from outside the repository with the project's config and secrets).`, pipelineIds: [] };
  let envId: string;
  let targets: string[];
  if (existing) {
    envId = existing.envId;
    targets = envRepo.serviceIdsIn(deps.db, envId);
    repo.updatePreview(deps.db, envId, { headSha: f.sha, status: "deploying", error: null, lastActivityAt: now });
  } else {
    const settings = repo.findProjectIntegration(deps.db, projectId);
    const source = settings?.previewSourceEnv ? envRepo.findEnv(deps.db, projectId, settings.previewSourceEnv) : envRepo.findDefaultEnv(deps.db, projectId);
    if (!source) return { status: "error", message: `The preview source environment '${settings?.previewSourceEnv}' no longer exists.`, pipelineIds: [] };
    if (envRepo.findEnvBySlug(deps.db, projectId, envSlug(n))) return { status: "error", message: `An environment '${envSlug(n)}' that is not a preview already exists; rename it to get previews.`, pipelineIds: [] };
    const fromSource = services.filter((c) => c.env.id === source.id);
    if (!fromSource.length) return { status: "ignored", message: `No service of '${source.slug}' builds from this repository.`, pipelineIds: [] };
    const env = clonePreview(deps, projectId, source, fromSource, n, now);
    repo.insertPreview(deps.db, { envId: env.id, projectId, number: n, repository: f.repository, headSha: f.sha, status: "deploying", error: null, createdAt: now, lastActivityAt: now });
    envId = env.id;
    targets = envRepo.serviceIdsIn(deps.db, envId);
  }
  const pipelineIds = targets.map((id) => startSystemPipeline(deps, id, { kind: "auto", ref: f.sha! }).job.id);
  if (f.repository) void postCommitStatus(deps, f.repository, f.sha, "pending", `Deploying preview ${envSlug(n)}`, hostsOf(deps, projectId, envId)[0]);
  return { status: "accepted", message: `${existing ? "Redeploying" : "Creating"} preview ${envSlug(n)} at ${f.sha.slice(0, 12)}.`, pipelineIds };
}

const removing = new Map<string, Promise<void>>();

/** Everything of one preview: replicas and routes, then images, then the rows (environment, services, config). */
export function removePreview(deps: Deps, envId: string): Promise<void> {
  const running = removing.get(envId);
  if (running) return running;
  const work = (async () => {
    const env = envRepo.findEnvById(deps.db, envId);
    if (!env) return;
    const project = findProjectById(deps.db, env.projectId)!;
    const org = findOrg(deps.db, project.orgId)!;
    const services = serviceRepo.listServicesInEnv(deps.db, envId);
    try {
      // queued builds and deploys of the preview never start; a running one finishes first, so
      // nothing it creates (an image, a replica) is left behind once the rows are gone
      const pending = services.flatMap((s) => pendingJobsOf(deps, s.id));
      for (const job of pending) if (job.status === "queued") markJob(deps, job.id, { status: "error", error: "The preview was removed.", finishedAt: isoNow(deps) });
      for (const job of pending) if (job.status === "running") await waitForJob(deps, job.id, 30 * 60_000).catch(() => undefined);
      // teardown returns once no container of the service is left and none can be healed back,
      // so nothing holds the preview's images any more (their removal is never forced)
      await Promise.all(services.map((s) => teardownService(deps, env, s.id)));
      for (const s of services) {
        const names: ServiceNames = { org: org.slug, project: project.slug, env: env.slug, service: s.slug };
        for (const img of imageRepo.newestImages(deps.db, s.id, 10_000)) {
          if (img.status !== "complete" || img.pruned) continue;
          await removeServiceImage(deps.docker, `${img.repositoryName}:${img.tag}`, names, img.dockerImageId).catch(() => false);
        }
      }
      deps.db.transaction((tx) => {
        for (const s of services) configRepo.deleteConfigBelow(tx as never, "service", s.id);
        envHooks.get().deleting(tx as never, envId);
        envRepo.deleteEnv(tx as never, envId); // services, images, releases and the preview row follow (ON DELETE CASCADE)
      });
      refreshHosts(deps); // the router forgets the preview's host names (404, not 503)
    } catch (e) {
      deps.logger.warn("preview removal failed", { env: envId, error: (e as Error).message });
      repo.updatePreview(deps.db, envId, { status: "failed", error: `Removing the preview failed: ${deps.redactor.redact((e as Error).message)}` });
    }
  })().finally(() => removing.delete(envId));
  removing.set(envId, work);
  return work;
}

/** One sweep: deploying previews become ready/failed; previews idle longer than their project's TTL go. */
export async function sweepPreviews(deps: Deps): Promise<{ removed: number }> {
  const now = deps.clock.now().getTime();
  let removed = 0;
  for (const p of repo.allPreviews(deps.db)) {
    if (p.status === "deploying") {
      const jobs = envRepo.serviceIdsIn(deps.db, p.envId).map((id) => pipelineJobs(deps.db, id, 1)[0]);
      const failed = jobs.find((j) => j?.status === "error");
      const done = jobs.length > 0 && jobs.every((j) => j?.status === "complete");
      if (failed || done) {
        repo.updatePreview(deps.db, p.envId, failed ? { status: "failed", error: failed.error ?? "The preview's pipeline failed." } : { status: "ready", error: null });
        if (p.repository && p.headSha) {
          await postCommitStatus(deps, p.repository, p.headSha, failed ? "failure" : "success", failed ? `Preview ${envSlug(p.number)} failed` : `Preview ${envSlug(p.number)} is ready`, hostsOf(deps, p.projectId, p.envId)[0]);
        }
      }
    }
    const ttlHours = repo.findProjectIntegration(deps.db, p.projectId)?.previewTtlHours ?? 72;
    if (p.status !== "removing" && now - Date.parse(p.lastActivityAt) > ttlHours * 3600_000) {
      repo.updatePreview(deps.db, p.envId, { status: "removing" });
      await removePreview(deps, p.envId);
      removed++;
    }
  }
  return { removed };
}

/** The background loop `ancla serve` runs (every minute). */
export function startPreviewSweeper(deps: Deps, everyMs = 60_000): { stop: () => Promise<void> } {
  let current: Promise<unknown> = Promise.resolve();
  const timer = setInterval(() => {
    current = sweepPreviews(deps).catch((e) => deps.logger.warn("preview sweep failed", { error: (e as Error).message }));
  }, everyMs);
  return {
    async stop() {
      clearInterval(timer);
      await current;
    },
  };
}
