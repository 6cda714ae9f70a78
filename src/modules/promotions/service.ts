// Promotions: the source environment's latest successful release of a service, deployed to the
// target environment with the SAME image and the TARGET's resolved config. The target service is
// created from the source's settings when missing (never its domains, config or privileges).
// Statuses follow the target deployment: queued → pending, running → deploying, then complete|error.
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import { Conflict, NotFound, invalidField } from "../../errors";
import { newId } from "../../lib/ids";
import type { Actor } from "../auth/service";
import { listChainVars, type ScopeKey } from "../config-vars/repo";
import { resolveServiceRows } from "../config-vars/resolve";
import { findDeployment } from "../deployments/repo";
import { enqueueDeploy } from "../deployments/service";
import { completeDeployments } from "../pipeline/repo";
import { assertMayDeploy, envAccess, type EnvAccess } from "../envs/access";
import { serviceAccess, type ServiceAccess } from "../services/access";
import { findEnvById } from "../envs/repo";
import { findService, findServiceById } from "../services/repo";
import { findRelease, type ReleaseRow } from "../releases/repo";
import { assertReleaseImageKept, createRelease, imageOfRelease } from "../releases/service";
import { createServiceRequest } from "../services/model";
import { createService } from "../services/service";
import type { ConfigDiff, PromoteInput } from "./model";
import * as repo from "./repo";

type SealedVar = { name: string; value: string; secret: boolean; scope: string };
const PRECEDENCE: Record<string, number> = { organization: 0, team: 1, project: 2, environment: 3, service: 4 };

/** Resolved (still sealed) config of the target: its service, or a service yet to be created there. */
function targetConfig(deps: Deps, env: EnvAccess, serviceId: string | null): SealedVar[] {
  if (serviceId) return resolveServiceRows(deps, serviceId);
  const chain: ScopeKey[] = [{ scope: "organization", scopeId: env.org.id }];
  if (env.project.teamId) chain.push({ scope: "team", scopeId: env.project.teamId });
  chain.push({ scope: "project", scopeId: env.project.id }, { scope: "environment", scopeId: env.env.id });
  const winners = new Map<string, SealedVar>();
  for (const row of listChainVars(deps.db, chain)) {
    const held = winners.get(row.name);
    if (!held || PRECEDENCE[row.scope]! > PRECEDENCE[held.scope]!) winners.set(row.name, row);
  }
  return [...winners.values()];
}

/** Names whose value differs between the sets (secrets compared decrypted, never returned). */
export function configDiff(deps: Deps, source: SealedVar[], target: SealedVar[]): ConfigDiff & { unchanged: number } {
  const plain = (v: SealedVar) => {
    if (!v.secret) return `p:${v.value}`;
    try {
      return `s:${deps.secrets.open(v.value)}`;
    } catch {
      return `x:${v.value}`;
    }
  };
  const before = new Map(source.map((v) => [v.name, v]));
  const after = new Map(target.map((v) => [v.name, v]));
  const sort = (a: string[]) => a.sort();
  const added = sort([...after.keys()].filter((n) => !before.has(n)));
  const removed = sort([...before.keys()].filter((n) => !after.has(n)));
  const both = [...after.keys()].filter((n) => before.has(n));
  const changed = sort(both.filter((n) => plain(before.get(n)!) !== plain(after.get(n)!)));
  return { added, removed, changed, unchanged: both.length - changed.length };
}

/** The release serving in the source environment: that of its latest complete deployment. */
function sourceRelease(deps: Deps, source: ServiceAccess): ReleaseRow {
  const current = completeDeployments(deps.db, source.service.id, 1)[0];
  const release = current && findRelease(deps.db, current.releaseId);
  if (!release) throw new Conflict(`Service '${source.service.slug}' has no successful deployment in '${source.env.slug}' to promote.`);
  return release;
}

type Plan = { source: ServiceAccess; target: EnvAccess; targetService: ServiceAccess["service"] | null; release: ReleaseRow; diff: ConfigDiff & { unchanged: number } };

function plan(deps: Deps, actor: Actor | null, org: string, project: string, q: PromoteInput): Plan {
  const source = serviceAccess(deps, actor, org, project, q.source_env, q.service);
  const target = envAccess(deps, actor, org, project, q.target_env);
  if (target.env.id === source.env.id) throw invalidField("target_env", "must differ from source_env");
  const release = sourceRelease(deps, source);
  const targetService = findService(deps.db, target.env.id, source.service.slug) ?? null;
  const diff = configDiff(deps, resolveServiceRows(deps, source.service.id), targetConfig(deps, target, targetService?.id ?? null));
  return { source, target, targetService, release, diff };
}

export function previewPromotion(deps: Deps, actor: Actor | null, org: string, project: string, q: PromoteInput) {
  const p = plan(deps, actor, org, project, q);
  return {
    service: p.source.service.slug,
    source_env: p.source.env.slug,
    target_env: p.target.env.slug,
    source_release_id: p.release.id,
    source_release_version: p.release.version,
    image: { ref: p.release.imageRef, repository_name: p.release.repositoryName, tag: p.release.tag, version: p.release.imageVersion },
    target_exists: p.targetService !== null,
    added: p.diff.added,
    removed: p.diff.removed,
    changed: p.diff.changed,
    unchanged: p.diff.unchanged,
    config_diff: { added: p.diff.added, removed: p.diff.removed, changed: p.diff.changed },
  };
}

/** Settings of the source service for a new target service (no domains: they are unique per server). */
function settingsOf(s: ServiceAccess["service"]) {
  const input = {
    name: s.name,
    slug: s.slug,
    platform: s.platform,
    process_counts: s.processCounts,
    process_pod_classes: s.processPodClasses,
    deployment_timeout: s.deploymentTimeout,
    health_check_path: s.healthCheckPath,
    health_check_host: s.healthCheckHost,
    port: s.port,
    dockerfile_path: s.dockerfilePath,
    image: s.image,
    git_url: s.gitUrl,
    build_ref: s.buildRef,
    subdirectory: s.subdirectory,
    github_repository: s.githubRepository,
    keep_images: s.keepImages,
  };
  const parsed = createServiceRequest.safeParse(input);
  return parsed.success ? parsed.data : { name: s.name, slug: s.slug };
}

export async function promote(deps: Deps, actor: Actor | null, org: string, project: string, input: PromoteInput) {
  const p = plan(deps, actor, org, project, input);
  assertMayDeploy(p.target);
  assertReleaseImageKept(deps, p.release); // before the target service or release is written
  let created = false;
  let service = p.targetService;
  if (!service) {
    const detail = await createService(deps, p.target, settingsOf(p.source.service));
    service = findServiceById(deps.db, detail.id)!;
    created = true;
  }
  const target: ServiceAccess = { ...p.target, service };
  const release = createRelease(deps, target, {
    image: imageOfRelease(p.release),
    note: `Promoted from ${p.source.env.slug} release v${p.release.version} (same image)`,
  });
  const d = enqueueDeploy(deps, target, release.id);
  const now = isoNow(deps);
  const row = repo.insertPromotion(deps.db, {
    id: newId(),
    projectId: p.source.project.id,
    serviceSlug: p.source.service.slug,
    sourceEnvId: p.source.env.id,
    targetEnvId: p.target.env.id,
    sourceServiceId: p.source.service.id,
    targetServiceId: service.id,
    sourceReleaseId: p.release.id,
    targetReleaseId: release.id,
    deploymentId: d.id,
    status: "pending",
    configChanges: { added: p.diff.added, removed: p.diff.removed, changed: p.diff.changed },
    targetCreated: created,
    createdById: p.source.actor.user.id,
    createdAt: now,
    updatedAt: now,
  });
  return toDetail(deps, row);
}

const STATUS_OF = { queued: "pending", running: "deploying", complete: "complete", error: "error" } as const;

/** Bring a promotion's status in line with its deployment (stored once it changes). */
export function syncPromotion(deps: Deps, row: repo.PromotionRow): repo.PromotionRow {
  if (row.status === "complete" || row.status === "error") return row;
  const d = row.deploymentId ? findDeployment(deps.db, row.deploymentId) : undefined;
  const status = d ? STATUS_OF[d.status] : "error";
  if (status === row.status) return row;
  const now = isoNow(deps);
  const done = status === "complete" || status === "error";
  return repo.updatePromotion(deps.db, row.id, {
    status,
    errorDetail: d ? d.errorDetail : "The deployment of this promotion no longer exists.",
    updatedAt: now,
    ...(done ? { finishedAt: d?.finishedAt ?? now } : {}),
  });
}

export function toDetail(deps: Deps, r: repo.PromotionRow) {
  const row = syncPromotion(deps, r);
  const version = (id: string | null) => (id ? (findRelease(deps.db, id)?.version ?? null) : null);
  return {
    id: row.id,
    status: row.status,
    service: row.serviceSlug,
    source_env: findEnvById(deps.db, row.sourceEnvId)?.slug ?? null,
    target_env: findEnvById(deps.db, row.targetEnvId)?.slug ?? null,
    source_release_version: version(row.sourceReleaseId),
    target_release_version: version(row.targetReleaseId),
    source_release_id: row.sourceReleaseId,
    target_release_id: row.targetReleaseId,
    target_deployment_id: row.deploymentId,
    target_service_id: row.targetServiceId,
    target_created: row.targetCreated,
    deployment_id: row.deploymentId,
    config_changes: row.configChanges,
    error_detail: row.errorDetail,
    created: row.createdAt,
    updated: row.updatedAt,
    finished: row.finishedAt,
  };
}

export function listProjectPromotions(deps: Deps, projectId: string) {
  return repo.listPromotions(deps.db, projectId, 50).map((r) => toDetail(deps, r));
}

export function promotionById(deps: Deps, projectId: string, id: string) {
  const row = repo.findPromotion(deps.db, id);
  if (!row || row.projectId !== projectId) throw new NotFound("Promotion");
  return toDetail(deps, row);
}
