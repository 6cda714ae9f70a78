// Services: create/get/patch/delete inside an environment, settings and scale (no containers
// here: what runs, and what releases hold, is known above this module and asked through
// ./hooks.ts, like the latest image/release/deployment of the views). Shared by the hierarchical routes and the
// reference-family applications routes.
import { listVolumes } from "./volumes";
import { Conflict, Forbidden, invalidField, Unprocessable } from "../../errors";
import { isoNow, type Deps } from "../../deps";
import { newId } from "../../lib/ids";
import { gitSourceUrl } from "../../lib/git";
import { checkGitSource, GitSourceRefused } from "../../lib/git-source";
import { slugOrDerived } from "../orgs/service";
import { assertMayDeploy, type EnvAccess } from "../envs/access";
import { type ServiceAccess } from "./access";
import { serviceHooks } from "./hooks";
import { envHooks } from "../envs/hooks";
import { applicationSummary, type ApplicationSummary, type CreateServiceInput, type PatchServiceInput, type ScaleInput, type ServiceDetail } from "./model";
import { z } from "zod";
import * as repo from "./repo";
import { cachedUntilWrite, jsonResponse } from "../../db/client";
import { assertDomainsAllowed, claimDomains } from "./domains";
import { DEFAULT_UPSTREAM_TIMEOUT_MS } from "../../router/table";
import { domainViews } from "../certificates/service";

export const DEFAULTS = {
  platform: "wind",
  processCounts: { web: 1 } as Record<string, number>,
  processPodClasses: { web: "small" } as Record<string, string>,
  deploymentTimeout: 180,
  healthCheckPath: "/_health/",
  dockerfilePath: "Dockerfile",
  port: 8000,
  keepImages: 5,
  upstreamTimeout: DEFAULT_UPSTREAM_TIMEOUT_MS / 1000,
  httpsRedirect: true,
  hsts: false,
};

type Where = { org: { slug: string }; project: { slug: string }; env: { id: string; slug: string; isDefault?: boolean } };

export function toServiceDetail(deps: Deps, row: repo.ServiceRow, at: Where): ServiceDetail {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    project_id: row.projectId,
    project_slug: at.project.slug,
    organization_slug: at.org.slug,
    env_id: row.envId,
    environment_slug: at.env.slug,
    platform: row.platform,
    process_counts: row.processCounts,
    process_pod_classes: row.processPodClasses,
    github_repository: row.githubRepository,
    github_repository_is_private: row.githubRepositoryIsPrivate,
    auto_deploy_branch: row.autoDeployBranch,
    subdirectory: row.subdirectory,
    github_app_installation_id: row.githubAppInstallationId,
    github_environment_name: row.githubEnvironmentName,
    deployment_timeout: row.deploymentTimeout,
    health_check_path: row.healthCheckPath,
    health_check_host: row.healthCheckHost,
    privileged: row.privileged,
    image: row.image,
    git_url: row.gitUrl,
    build_ref: row.buildRef,
    dockerfile_path: row.dockerfilePath,
    domains: row.domains,
    port: row.port,
    keep_images: row.keepImages,
    upstream_timeout: row.upstreamTimeout,
    https_redirect: row.httpsRedirect,
    hsts: row.hsts,
    created: row.createdAt,
    updated: row.updatedAt,
    ...serviceHooks.get().latest(deps, row.id),
    replicas: serviceHooks.get().replicas(deps, row.id),
    certificates: domainViews(deps, { org: at.org.slug, project: at.project.slug, env: at.env.slug, isDefaultEnv: at.env.isDefault ?? false, service: row.slug, domains: row.domains }),
  };
}

/** The service's hostnames and their certificates (GET …/services/{svc}/domains). */
export function serviceDomains(deps: Deps, at: Where & { service: repo.ServiceRow }) {
  const s = at.service;
  const names = { org: at.org.slug, project: at.project.slug, env: at.env.slug, isDefaultEnv: at.env.isDefault ?? false, service: s.slug, domains: s.domains };
  return { https: Boolean(deps.config.https), https_redirect: s.httpsRedirect, hsts: s.hsts, domains: domainViews(deps, names) };
}

/** ApplicationSummary of every service in an environment: one query for the rows, one for activity. */
function computeSummaries(deps: Deps, envId: string): ApplicationSummary[] {
  const rows = repo.listSummaryRows(deps.db, envId);
  const latest = serviceHooks.get().latestVersions(deps, rows.map((r) => r.id));
  return rows.map((r) => ({ ...r, ...latest.get(r.id)! }));
}

// The list is read far more often than anything in the database changes (dashboards, CLIs and
// scripts polling), so it is kept per environment until the next write, together with its JSON
// text — checked against the response schema once, when the cache is filled. One cache per Deps.
type CachedList = { value: ApplicationSummary[]; json: string };
const summaryCaches = new WeakMap<Deps, (sqlite: Deps["sqlite"], envId: string) => CachedList>();
const summaryListSchema = z.array(applicationSummary);

function cachedSummaries(deps: Deps, envId: string): CachedList {
  let cached = summaryCaches.get(deps);
  if (!cached) {
    cached = cachedUntilWrite((id) => {
      const value = computeSummaries(deps, id);
      return { value, json: JSON.stringify(summaryListSchema.parse(value)) };
    }, { maxWeight: 8 * 2 ** 20, weigh: (v) => 2 * v.json.length }); // the rows and their text: bounded to ~16 MiB
    summaryCaches.set(deps, cached);
  }
  return cached(deps.sqlite, envId);
}

/** ApplicationSummary rows of an environment (shared, read-only array). */
export const listSummaries = (deps: Deps, envId: string): ApplicationSummary[] => cachedSummaries(deps, envId).value;

/** The same list as a ready JSON response, for the hot list routes. */
export const summariesResponse = (deps: Deps, envId: string): Response => jsonResponse(cachedSummaries(deps, envId).json);

/** Request fields → columns; null resets a column to its default (or clears a nullable one). */
function columnsOf(input: Omit<PatchServiceInput, "name" | "slug">): Partial<repo.ServiceInsert> {
  const c: Partial<repo.ServiceInsert> = {};
  const put = <K extends keyof repo.ServiceInsert>(key: K, value: unknown, fallback: unknown = null) => {
    if (value !== undefined) c[key] = (value ?? fallback) as repo.ServiceInsert[K];
  };
  put("platform", input.platform);
  put("processCounts", input.process_counts);
  put("processPodClasses", input.process_pod_classes);
  put("githubRepository", input.github_repository);
  put("githubRepositoryIsPrivate", input.github_repository_is_private, false);
  put("autoDeployBranch", input.auto_deploy_branch);
  put("subdirectory", input.subdirectory);
  put("githubAppInstallationId", input.github_app_installation_id);
  put("githubEnvironmentName", input.github_environment_name);
  put("deploymentTimeout", input.deployment_timeout, DEFAULTS.deploymentTimeout);
  put("healthCheckPath", input.health_check_path, DEFAULTS.healthCheckPath);
  put("healthCheckHost", input.health_check_host?.toLowerCase() ?? input.health_check_host);
  put("privileged", input.privileged);
  put("image", input.image);
  put("gitUrl", input.git_url);
  put("buildRef", input.build_ref);
  put("dockerfilePath", input.dockerfile_path, DEFAULTS.dockerfilePath);
  put("domains", input.domains && [...new Set(input.domains)]);
  put("port", input.port);
  put("keepImages", input.keep_images);
  put("upstreamTimeout", input.upstream_timeout, DEFAULTS.upstreamTimeout);
  put("httpsRedirect", input.https_redirect, DEFAULTS.httpsRedirect);
  put("hsts", input.hsts, DEFAULTS.hsts);
  return c;
}

/**
 * In a protected environment what a service builds and deploys on its own (its source, the branch
 * a push auto-deploys, its replica counts) is an org admin's, like a deploy there: a member could
 * otherwise set the branch to one they push to and deploy.
 */
const PROTECTED_FIELDS = ["auto_deploy_branch", "git_url", "github_repository", "build_ref", "subdirectory", "dockerfile_path", "image", "process_counts", "process_pod_classes"] as const;
function assertProtectedChange(access: EnvAccess, input: Partial<Record<(typeof PROTECTED_FIELDS)[number], unknown>>) {
  if (!access.env.protected || access.isAdmin) return;
  const fields = PROTECTED_FIELDS.filter((k) => input[k] !== undefined);
  if (fields.length) throw new Forbidden(`Environment '${access.env.slug}' is protected; only organization admins may set ${fields.join(", ")} of its services.`);
}

function assertPrivilegedChange(access: EnvAccess, wanted: boolean | undefined, current: boolean) {
  if (wanted !== undefined && wanted !== current && !access.actor.user.isAdmin) {
    throw new Forbidden("Only server administrators may change 'privileged'.");
  }
}

/**
 * The git source a request sets must be one the server may clone: public addresses after DNS
 * resolution (or the operator's --git-allow-hosts), file:// for server administrators only. The
 * build job checks again before each clone (DNS answers change), so a name that does not resolve
 * yet is accepted here.
 */
async function assertGitSourceAllowed(deps: Deps, access: EnvAccess, input: { git_url?: string | null; github_repository?: string | null }) {
  const sources: [string, string | null | undefined][] = [
    ["git_url", input.git_url],
    ["github_repository", input.github_repository && gitSourceUrl({ gitUrl: null, githubRepository: input.github_repository })],
  ];
  const policy = { allowLocal: access.actor.user.isAdmin, allow: deps.config.gitAllowHosts, unresolved: "accept" as const };
  for (const [field, url] of sources) {
    if (!url) continue;
    try {
      await checkGitSource(url, policy);
    } catch (e) {
      if (e instanceof GitSourceRefused) throw invalidField(field, e.message);
      throw e;
    }
  }
}

function assertFree(deps: Deps, envId: string, slug: string, exceptId?: string) {
  const clash = repo.findServiceInEnvBySlug(deps.db, envId, slug);
  if (clash && clash.id !== exceptId) throw new Conflict(`A service with slug '${slug}' already exists in this environment.`);
}

/** The names a service's generated hostnames are built from (to tell its own names from others'). */
const namesOf = (access: EnvAccess, slug: string) => ({ org: access.org.slug, project: access.project.slug, env: access.env.slug, isDefaultEnv: access.env.isDefault, service: slug });

export async function createService(deps: Deps, access: EnvAccess, input: CreateServiceInput): Promise<ServiceDetail> {
  const slug = slugOrDerived(input.slug, input.name);
  assertPrivilegedChange(access, input.privileged, false);
  assertProtectedChange(access, input);
  await assertGitSourceAllowed(deps, access, input);
  const cols = columnsOf(input);
  assertDomainsAllowed(deps, namesOf(access, slug), cols.domains);
  const now = isoNow(deps);
  const row = deps.db.transaction((tx) => {
    assertFree({ ...deps, db: tx as never }, access.env.id, slug);
    const inserted = repo.insertService(tx as never, {
      platform: DEFAULTS.platform,
      processCounts: DEFAULTS.processCounts,
      processPodClasses: DEFAULTS.processPodClasses,
      domains: [],
      ...cols,
      id: newId(),
      envId: access.env.id,
      projectId: access.project.id,
      name: input.name,
      slug,
      createdAt: now,
      updatedAt: now,
    });
    if (cols.domains) claimDomains(tx as never, inserted.id, cols.domains, now);
    return inserted;
  });
  return toServiceDetail(deps, row, access);
}

export function getService(deps: Deps, access: ServiceAccess): ServiceDetail {
  return toServiceDetail(deps, access.service, access);
}

export async function patchService(deps: Deps, access: ServiceAccess, input: PatchServiceInput): Promise<ServiceDetail> {
  assertPrivilegedChange(access, input.privileged, access.service.privileged);
  assertProtectedChange(access, input);
  // the settings' counts are the same counts `scale` sets: the same 422 for a type no release has
  assertKnownProcessTypes(deps, access.service, input);
  await assertGitSourceAllowed(deps, access, input);
  const { name, slug, ...rest } = input;
  const cols = columnsOf(rest);
  assertDomainsAllowed(deps, namesOf(access, slug ?? access.service.slug), cols.domains);
  const now = isoNow(deps);
  const row = deps.db.transaction((tx) => {
    assertFree({ ...deps, db: tx as never }, access.env.id, slug ?? access.service.slug, access.service.id);
    if (cols.domains) claimDomains(tx as never, access.service.id, cols.domains, now);
    return repo.updateService(tx as never, access.service.id, {
      ...cols,
      ...(name !== undefined ? { name } : {}),
      ...(slug !== undefined ? { slug } : {}),
      updatedAt: now,
    });
  });
  return toServiceDetail(deps, row, access);
}

export function deleteService(deps: Deps, access: ServiceAccess, opts: { deleteVolumes?: boolean } = {}) {
  if (access.env.protected && !access.isAdmin) throw new Forbidden("Only organization admins may delete services of a protected environment.");
  // volumes outlive their service unless asked: their names are needed after the rows are gone
  const volumeNames = opts.deleteVolumes ? listVolumes(deps.db, access.service.id).map((v) => v.name) : [];
  deps.db.transaction((tx) => {
    serviceHooks.get().deleting(tx as never, access.service.id);
    repo.deleteService(tx as never, access.service.id);
  });
  // its containers and routes go too (in the background: the row is already gone)
  envHooks.get().servicesRemoved(deps, access.env, [access.service.id]);
  if (volumeNames.length) {
    const ref = { org: access.org.slug, project: access.project.slug, env: access.env.slug, service: access.service.slug, serviceId: access.service.id, projectId: access.project.id };
    serviceHooks.get().volumesRemoved(deps, access.env, ref, volumeNames);
  }
  return { ok: true };
}

/** 422 naming each process type the releases do not have (a typo would otherwise be stored and never run). */
function assertKnownProcessTypes(deps: Deps, s: ServiceAccess["service"], input: { process_counts?: ScaleInput["process_counts"] | null; process_pod_classes?: ScaleInput["process_pod_classes"] | null }): void {
  const known = serviceHooks.get().processTypes(deps, s);
  if (!known) return;
  const errors = (["process_counts", "process_pod_classes"] as const).flatMap((field) =>
    Object.keys(input[field] ?? {})
      .filter((type) => !known.types.has(type))
      .map((type) => ({ path: `${field}.${type}`, message: `unknown process type "${type}": release v${known.version} has ${[...known.types].sort().join(", ")}` })),
  );
  if (errors.length) throw new Unprocessable(`${errors[0]!.path}: ${errors[0]!.message}`, errors);
}

/** Scale stores replica counts and pod classes merged over the current maps; containers follow later. */
export function scaleService(deps: Deps, access: ServiceAccess, input: ScaleInput): ServiceDetail {
  assertMayDeploy(access);
  const s = access.service;
  assertKnownProcessTypes(deps, s, input);
  const row = repo.updateService(deps.db, s.id, {
    processCounts: { ...s.processCounts, ...input.process_counts },
    processPodClasses: { ...s.processPodClasses, ...input.process_pod_classes },
    updatedAt: isoNow(deps),
  });
  // running replicas follow in place (a scale deployment of the serving release), when any run
  serviceHooks.get().scaled(deps, { ...access, service: row });
  return toServiceDetail(deps, row, access);
}
