// A project's webhook side: its URL and secret (set by org admins — a verified push deploys even
// to protected environments), its recorded deliveries and redelivering one of them.
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import { Conflict, Forbidden, NotFound } from "../../errors";
import { newId, randomBase62 } from "../../lib/ids";
import type { Actor } from "../auth/service";
import { refreshServerRedactor } from "../config-vars/redaction";
import { startPipeline } from "../pipeline/service";
import { projectAccess, type ProjectAccess } from "../projects/access";
import { serviceAccessById } from "../services/access";
import { serviceUsesRepository } from "./github";
import type { DeliveryView, WebhookSettings } from "./model";
import * as repo from "./repo";
import { handlePush, type EventFields, type ProjectOutcome } from "./webhooks";

export const HOOK_PATH = "/api/v1/integrations/github/hooks";

export const deliveryView = (r: repo.DeliveryRow): DeliveryView => ({
  id: r.id,
  delivery_id: r.deliveryId,
  event: r.event,
  action: r.action,
  repository: r.repository,
  ref: r.ref,
  commit_sha: r.commitSha,
  status: r.status,
  message: r.message,
  pipeline_ids: r.pipelineIds,
  redelivery_of: r.redeliveryOf,
  created: r.createdAt,
});

const hookUrl = (deps: Deps) => (deps.config.publicUrl ?? `http://${deps.config.listen}`).replace(/\/+$/, "") + HOOK_PATH;

export function webhookSettings(deps: Deps, actor: Actor | null, org: string, project: string): WebhookSettings {
  const p = projectAccess(deps, actor, org, project);
  const row = repo.findProjectIntegration(deps.db, p.project.id);
  return {
    url: hookUrl(deps),
    content_type: "application/json",
    events: ["push", "pull_request"],
    project_secret_set: !!row?.webhookSecret,
    server_secret_set: !!deps.config.githubWebhookSecret,
  };
}

function adminAccess(deps: Deps, actor: Actor | null, org: string, project: string): ProjectAccess {
  const p = projectAccess(deps, actor, org, project);
  if (!p.isAdmin) throw new Forbidden("Only organization admins may change a project's webhook secret: a verified push deploys even to protected environments.");
  return p;
}

/** Sets (or generates) the project's secret; the answer is the only place it is ever shown. */
export function setWebhookSecret(deps: Deps, actor: Actor | null, org: string, project: string, given?: string): WebhookSettings {
  const p = adminAccess(deps, actor, org, project);
  const secret = given ?? randomBase62(40);
  repo.upsertProjectIntegration(deps.db, p.project.id, { webhookSecret: deps.secrets.seal(secret), updatedAt: isoNow(deps) });
  refreshServerRedactor(deps);
  return { ...webhookSettings(deps, actor, org, project), secret };
}

export function deleteWebhookSecret(deps: Deps, actor: Actor | null, org: string, project: string): WebhookSettings {
  const p = adminAccess(deps, actor, org, project);
  repo.upsertProjectIntegration(deps.db, p.project.id, { webhookSecret: null, updatedAt: isoNow(deps) });
  refreshServerRedactor(deps);
  return webhookSettings(deps, actor, org, project);
}

export function listDeliveries(deps: Deps, actor: Actor | null, org: string, project: string, limit: number) {
  const p = projectAccess(deps, actor, org, project);
  return { items: repo.listDeliveries(deps.db, p.project.id, limit).map(deliveryView) };
}

/**
 * Replays a recorded push as the calling user: the same commit to the services of this project
 * that use the repository and deploy the branch (protected environments need an org admin).
 */
export function redeliver(deps: Deps, actor: Actor | null, org: string, project: string, id: string) {
  const p = projectAccess(deps, actor, org, project);
  const row = repo.findDelivery(deps.db, p.project.id, id);
  if (!row) throw new NotFound("Delivery");
  if (row.status === "refused") throw new Conflict("This delivery was refused (its signature did not match); it cannot be redelivered.");
  const payload = (row.payload ?? {}) as Record<string, unknown>;
  const keys = new Set(Array.isArray(payload.repo_keys) ? (payload.repo_keys as string[]) : []);
  const services = repo.servicesWithGitSource(deps.db).filter((c) => c.service.projectId === p.project.id && serviceUsesRepository(c.service, { fullName: row.repository, keys }));
  const f: EventFields = { event: row.event, action: row.action, repository: row.repository, ref: row.ref, sha: row.commitSha, payload };
  const outcome: ProjectOutcome = deps.sqlite.transaction(() => {
    if (row.event === "ping") return { status: "accepted" as const, message: "Ping redelivered.", pipelineIds: [] };
    if (row.event !== "push") return { status: "ignored" as const, message: `Redelivering '${row.event}' events is not supported; push again or reopen the pull request.`, pipelineIds: [] };
    return handlePush(deps, services, f, (serviceId, ref) => startPipeline(deps, serviceAccessById(deps, p.actor, serviceId), { kind: "auto", ref }).job.id);
  })();
  const inserted = repo.insertDelivery(deps.db, {
    id: newId(),
    deliveryId: row.deliveryId,
    projectId: p.project.id,
    event: row.event,
    action: row.action,
    repository: row.repository,
    ref: row.ref,
    commitSha: row.commitSha,
    status: outcome.status,
    message: outcome.message,
    pipelineIds: outcome.pipelineIds,
    payload: row.payload,
    redeliveryOf: row.id,
    createdAt: isoNow(deps),
  });
  return { ok: true, delivery: deliveryView(inserted) };
}
