// Environments of a project: the default one (created with the project) cannot be deleted;
// protection is an admin decision; deleting an environment deletes its services.
import { Conflict, Forbidden, Unprocessable } from "../../errors";
import { isoNow, type Deps } from "../../deps";
import type { Db } from "../../db/client";
import { newId } from "../../lib/ids";
import type { Actor } from "../auth/service";
import { slugOrDerived } from "../orgs/service";
import { envAccess, type EnvAccess } from "./access";
import { projectAccess, type ProjectAccess } from "../projects/access";
import { envTypes, type CreateEnvInput, type EnvCheckResponse, type EnvResponse, type PatchEnvInput } from "./model";
import { KubeconfigError, kubeconfigFingerprint, parseKubeconfig } from "../../lib/kubeconfig";
import { defaultNamespace } from "../../lib/kube-names";
import { isSealed } from "../../lib/crypto";
import { targetFor, TargetUnavailable } from "../../targets/target";
import { serverRedactionValues } from "../../db/redaction-values";

/** Cluster credentials just stored are hidden in every log from now on (the server-wide redactor). */
const refreshRedactor = (deps: Deps) => deps.redactor.update(serverRedactionValues(deps.sqlite, deps.secrets));
import * as repo from "./repo";
import { envHooks } from "./hooks";

type Where = { org: { slug: string }; project: { id: string; slug: string } };

export function toEnvResponse(row: repo.EnvRow, at: Where, serviceCount: number): EnvResponse {
  return {
    id: row.id,
    name: row.name,
    slug: row.slug,
    project_id: row.projectId,
    project_slug: at.project.slug,
    organization_slug: at.org.slug,
    env_type: row.envType,
    is_default: row.isDefault,
    protected: row.protected,
    auto_deploy_branch: row.autoDeployBranch,
    ephemeral: row.ephemeral,
    target: row.target,
    kubeconfig_set: row.kubeconfig !== null,
    kubeconfig_server: row.kubeconfig !== null ? row.kubeconfigServer : null,
    kubeconfig_fingerprint: row.kubeconfig !== null ? row.kubeconfigFingerprint : null,
    context: row.kubeContext,
    namespace: row.namespace,
    ingress_class: row.ingressClass,
    ingress_tls_secret: row.ingressTlsSecret,
    registry_url: row.registryUrl,
    registry_username: row.registryUsername,
    registry_password_set: row.registryPassword !== null,
    service_count: serviceCount,
    created: row.createdAt,
    updated: row.updatedAt,
  };
}

/** A new project's default environment, inside the project's creating transaction (projects/hooks.ts). */
export function createDefaultEnv(db: Db, projectId: string, now: string): repo.EnvRow {
  return repo.insertEnv(db, { id: newId(), projectId, name: "production", slug: "production", envType: "production", isDefault: true, createdAt: now, updatedAt: now });
}

/**
 * A protected environment's settings are an org admin's: where it deploys (target, cluster,
 * namespace, registry and their credentials), what deploys there on its own (auto_deploy_branch)
 * and its slug (its hostnames) — a member could otherwise redirect what only admins deploy. The
 * display name stays the members'.
 */
function assertMayChangeProtected(access: EnvAccess, input: PatchEnvInput) {
  if (!access.env.protected || access.isAdmin) return;
  // the display name stays the members' ('protected' itself: assertMayProtect)
  const fields = Object.entries(input)
    .filter(([k, v]) => v !== undefined && k !== "name" && k !== "protected")
    .map(([k]) => k);
  if (fields.length) throw new Forbidden(`Environment '${access.env.slug}' is protected; only organization admins may change its settings (${fields.join(", ")}).`);
}

function assertMayProtect(access: ProjectAccess, wanted: boolean | undefined, current: boolean) {
  if (wanted !== undefined && wanted !== current && !access.isAdmin) throw new Forbidden("Only organization admins may change 'protected'.");
}

const unprocessable = (path: string, message: string) => new Unprocessable(`${path}: ${message}`, [{ path, message }]);

type KubeFields = Pick<repo.EnvInsert, "target" | "kubeconfig" | "kubeconfigServer" | "kubeconfigFingerprint" | "kubeContext" | "namespace" | "registryUsername" | "registryPassword">;

/**
 * The namespace of a kubernetes environment: the one set, else the default — with a short hash when
 * another environment (any organization's) already deploys into it on the same API server, as slugs
 * run together (`a`/`b-c` and `a-b`/`c`). A set namespace that is taken there is a 409 when the
 * namespace, the cluster or the target changes now (`moved`).
 */
function clusterNamespace(deps: Deps, at: Where & { env: string; envId?: string }, server: string | null, namespace: string | null, moved: boolean): string {
  const taken = (ns: string) => server !== null && repo.envsInNamespace(deps.db, server, ns).some((e) => e.id !== at.envId);
  if (namespace === null) {
    const plain = defaultNamespace(at.org.slug, at.project.slug, at.env);
    return taken(plain) ? defaultNamespace(at.org.slug, at.project.slug, at.env, `${at.project.id}/${at.env}`) : plain;
  }
  if (moved && taken(namespace)) throw new Conflict(`Namespace '${namespace}' of the cluster at ${server} is already used by another environment; choose another namespace.`);
  return namespace;
}

/**
 * The cluster settings after a create or patch: a new kubeconfig is read (its context must resolve,
 * no file references or credential plugins) and sealed; a changed context is checked against the
 * stored one; a kubernetes environment gets its default namespace; registry credentials come in pairs.
 */
function kubeSettings(deps: Deps, at: Where & { env: string; envId?: string }, current: KubeFields | null, input: CreateEnvInput | PatchEnvInput): Partial<repo.EnvInsert> {
  const out: Partial<repo.EnvInsert> = {};
  const target = input.target ?? current?.target ?? "docker";
  const context = input.context === undefined ? (current?.kubeContext ?? null) : input.context;
  if (input.context !== undefined) out.kubeContext = input.context;
  let plain: string | null = null;
  if (input.kubeconfig !== undefined) {
    plain = input.kubeconfig;
    out.kubeconfig = plain === null ? null : deps.secrets.seal(plain);
    out.kubeconfigFingerprint = plain === null ? null : kubeconfigFingerprint(plain);
  } else if (input.context !== undefined && current?.kubeconfig) {
    try {
      plain = isSealed(current.kubeconfig) ? deps.secrets.open(current.kubeconfig) : current.kubeconfig;
    } catch {
      throw unprocessable("kubeconfig", "the stored kubeconfig cannot be decrypted with the server's master key; send it again");
    }
  }
  if (plain !== null) {
    try {
      out.kubeconfigServer = parseKubeconfig(plain, context).server;
    } catch (e) {
      if (e instanceof KubeconfigError) throw unprocessable(input.kubeconfig !== undefined ? "kubeconfig" : "context", `${input.kubeconfig !== undefined ? "" : "the stored kubeconfig "}${e.message}`.trim());
      throw e;
    }
  } else if (input.kubeconfig === null) out.kubeconfigServer = null;
  const kubeconfig = input.kubeconfig === undefined ? (current?.kubeconfig ?? null) : input.kubeconfig;
  if (target === "kubernetes" && !kubeconfig) throw unprocessable("kubeconfig", "is required when target is kubernetes");
  if (input.namespace !== undefined) out.namespace = input.namespace;
  const namespace = input.namespace === undefined ? (current?.namespace ?? null) : input.namespace;
  if (target === "kubernetes") {
    const server = out.kubeconfigServer !== undefined ? out.kubeconfigServer : (current?.kubeconfigServer ?? null);
    const moved = input.namespace !== undefined || out.kubeconfigServer !== undefined || input.target !== undefined;
    const ns = clusterNamespace(deps, at, server, namespace, moved);
    if (ns !== namespace) out.namespace = ns;
  }
  if (input.registry_password !== undefined) out.registryPassword = input.registry_password === null ? null : deps.secrets.seal(input.registry_password);
  if (input.registry_username !== undefined) out.registryUsername = input.registry_username;
  const username = input.registry_username === undefined ? (current?.registryUsername ?? null) : input.registry_username;
  const password = input.registry_password === undefined ? (current?.registryPassword ?? null) : input.registry_password;
  if (!!username !== !!password) throw unprocessable(username ? "registry_password" : "registry_username", "registry_username and registry_password are set together (or neither)");
  return out;
}

function assertSlugFree(deps: Deps, projectId: string, slug: string, exceptId?: string) {
  const clash = repo.findEnvBySlug(deps.db, projectId, slug);
  if (clash && clash.id !== exceptId) throw new Conflict(`An environment with slug '${slug}' already exists in this project.`);
}

export function listEnvs(deps: Deps, actor: Actor | null, org: string, project: string): EnvResponse[] {
  const access = projectAccess(deps, actor, org, project);
  return repo.listEnvs(deps.db, access.project.id).map((r) => toEnvResponse(r.env, access, r.serviceCount));
}

export function createEnv(deps: Deps, actor: Actor | null, org: string, project: string, input: CreateEnvInput): EnvResponse {
  const access = projectAccess(deps, actor, org, project);
  const slug = slugOrDerived(input.slug, input.name);
  assertMayProtect(access, input.protected, false);
  assertSlugFree(deps, access.project.id, slug);
  const kube = kubeSettings(deps, { ...access, env: slug }, null, input);
  const now = isoNow(deps);
  const row = repo.insertEnv(deps.db, {
    id: newId(),
    projectId: access.project.id,
    name: input.name,
    slug,
    // "staging", "preview", … name their own type; anything else is a development environment
    envType: input.env_type ?? ((envTypes as readonly string[]).includes(slug) ? (slug as repo.EnvRow["envType"]) : "development"),
    isDefault: false,
    protected: input.protected ?? false,
    autoDeployBranch: input.auto_deploy_branch ?? null,
    ephemeral: input.ephemeral ?? false,
    target: input.target ?? "docker",
    namespace: input.namespace ?? null,
    ingressClass: input.ingress_class ?? null,
    ingressTlsSecret: input.ingress_tls_secret ?? null,
    registryUrl: input.registry_url ?? null,
    ...kube,
    createdAt: now,
    updatedAt: now,
  });
  if (kube.kubeconfig || kube.registryPassword) refreshRedactor(deps);
  return toEnvResponse(row, access, 0);
}

export function getEnv(deps: Deps, actor: Actor | null, org: string, project: string, env: string): EnvResponse {
  const access = envAccess(deps, actor, org, project, env);
  return toEnvResponse(access.env, access, repo.countServicesIn(deps.db, access.env.id));
}

export function patchEnv(deps: Deps, actor: Actor | null, org: string, project: string, env: string, input: PatchEnvInput): EnvResponse {
  const access = envAccess(deps, actor, org, project, env);
  const current = access.env;
  assertMayProtect(access, input.protected, current.protected);
  assertMayChangeProtected(access, input);
  if (input.slug) assertSlugFree(deps, access.project.id, input.slug, current.id);
  const patch: Partial<repo.EnvInsert> = { updatedAt: isoNow(deps), ...kubeSettings(deps, { ...access, env: input.slug ?? current.slug, envId: current.id }, current, input) };
  if (input.name !== undefined) patch.name = input.name;
  if (input.slug !== undefined) patch.slug = input.slug;
  if (input.env_type !== undefined) patch.envType = input.env_type;
  if (input.protected !== undefined) patch.protected = input.protected;
  if (input.auto_deploy_branch !== undefined) patch.autoDeployBranch = input.auto_deploy_branch;
  if (input.ephemeral !== undefined) patch.ephemeral = input.ephemeral;
  if (input.target !== undefined) patch.target = input.target;
  if (input.ingress_class !== undefined) patch.ingressClass = input.ingress_class;
  if (input.ingress_tls_secret !== undefined) patch.ingressTlsSecret = input.ingress_tls_secret;
  if (input.registry_url !== undefined) patch.registryUrl = input.registry_url;
  const row = repo.updateEnv(deps.db, current.id, patch);
  if (patch.kubeconfig !== undefined || patch.registryPassword !== undefined || patch.kubeContext !== undefined) refreshRedactor(deps);
  return toEnvResponse(row, access, repo.countServicesIn(deps.db, row.id));
}

/** Deletes the environment, its services and their config; what runs for those services goes in the background. */
export function deleteEnv(deps: Deps, actor: Actor | null, org: string, project: string, env: string) {
  const access: EnvAccess = envAccess(deps, actor, org, project, env);
  if (access.env.isDefault) throw new Conflict("The default environment cannot be deleted.");
  if (access.env.protected && !access.isAdmin) throw new Forbidden("Only organization admins may delete a protected environment.");
  const serviceIds = repo.serviceIdsIn(deps.db, access.env.id); // before the cascade removes them
  deps.db.transaction((tx) => {
    envHooks.get().deleting(tx as never, access.env.id);
    repo.deleteEnv(tx as never, access.env.id); // services go with it (ON DELETE CASCADE)
  });
  envHooks.get().servicesRemoved(deps, access.env, serviceIds); // their containers and routes
  return { ok: true };
}

/**
 * Check that the environment's target can be used: for a cluster the API server, the rights in its
 * namespace and the registry login, each saying exactly what failed. Nothing is changed. Org admins only.
 */
export async function checkEnv(deps: Deps, actor: Actor | null, org: string, project: string, env: string): Promise<EnvCheckResponse> {
  const access = envAccess(deps, actor, org, project, env);
  // the check connects to addresses taken from the settings and says what answered: on a server
  // that is the one door into private networks (clusters usually live there), so only admins ask
  if (!access.isAdmin) throw new Forbidden("Only organization admins may check an environment's target.");
  let checks: EnvCheckResponse["checks"];
  try {
    const target = targetFor(deps, access.env);
    if (target.check) checks = await target.check();
    else {
      checks = await target.ping().then(
        () => [{ name: target.kind, ok: true, message: `the ${target.kind} engine answers` }],
        (e: Error) => [{ name: target.kind, ok: false, message: `the ${target.kind} engine does not answer: ${e.message}` }],
      );
    }
  } catch (e) {
    if (!(e instanceof TargetUnavailable)) throw e;
    checks = [{ name: access.env.target, ok: false, message: e.message }];
  }
  return { ok: checks.every((c) => c.ok), target: access.env.target, checks };
}
