// GitHub deliveries: who may trigger what. A delivery is verified per project — the server-wide
// secret (--github-webhook-secret) or that project's own secret — so a repository shared by two
// organizations deploys only the projects whose secret signed it. Every verified delivery is
// recorded per project (dedup by X-GitHub-Delivery, and a replayed push or pull_request body under
// a new delivery id is recorded as a duplicate that triggers nothing); an unverified one is recorded as refused for
// the projects whose services use the repository (so their owners see it) and triggers nothing.
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import { BadRequest, Unauthorized } from "../../errors";
import { newId } from "../../lib/ids";
import { startSystemPipeline } from "../pipeline/service";
import { isCommitSha, payloadRepository, serviceUsesRepository, signatureMatches, ZERO_SHA, type PayloadRepository } from "./github";
import * as repo from "./repo";
import { handlePullRequest } from "./previews";

export type Delivery = { event: string; deliveryId: string; signature: string | null; body: Uint8Array; contentType: string };
export type Candidate = ReturnType<typeof repo.servicesWithGitSource>[number];
export type ProjectOutcome = { status: repo.DeliveryRow["status"]; message: string; pipelineIds: string[] };
export type EventFields = { event: string; action: string | null; repository: string | null; ref: string | null; sha: string | null; payload: Record<string, unknown> };

const DELIVERY_ID = /^[A-Za-z0-9._:-]{1,100}$/;
const EVENT = /^[a-z_]{1,64}$/;

/** JSON, or GitHub's form encoding (`payload=<json>`). */
function parsePayload(body: Uint8Array, contentType: string): unknown {
  let text = Buffer.from(body).toString("utf8");
  if (contentType.includes("application/x-www-form-urlencoded")) text = new URLSearchParams(text).get("payload") ?? "";
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

/** The fields of an event a delivery row keeps (and a redelivery replays). */
export function eventFields(event: string, p: Record<string, any>, repoName: string | null): EventFields {
  if (event === "push") {
    const sha = isCommitSha(p.after) ? p.after : null;
    const ref = typeof p.ref === "string" ? p.ref.slice(0, 255) : null;
    const before = isCommitSha(p.before) ? p.before : null;
    const pushed = p.repository?.pushed_at;
    const pushedAt = typeof pushed === "number" || typeof pushed === "string" ? String(pushed).slice(0, 64) : null;
    return { event, action: p.deleted === true ? "deleted" : null, repository: repoName, ref, sha, payload: { ref, before, after: sha, deleted: p.deleted === true, pushed_at: pushedAt } };
  }
  if (event === "pull_request") {
    const pr = p.pull_request ?? {};
    const sha = isCommitSha(pr.head?.sha) ? pr.head.sha : null;
    const number = Number.isInteger(p.number) && p.number > 0 && p.number < 1e9 ? p.number : null;
    const action = typeof p.action === "string" ? p.action.slice(0, 64) : null;
    const headRef = typeof pr.head?.ref === "string" ? pr.head.ref.slice(0, 255) : null;
    // a PR from a fork runs code nobody with access to this repository wrote: no preview (it would get the project's secrets).
    // Unknown counts as a fork: GitHub sends head.repo null once the fork was deleted, and a reopened PR still carries its code.
    const headRepo = typeof pr.head?.repo?.full_name === "string" ? pr.head.repo.full_name.toLowerCase() : null;
    const fromFork = headRepo === null || repoName === null || headRepo !== repoName;
    const updatedAt = typeof pr.updated_at === "string" ? pr.updated_at.slice(0, 64) : null;
    return { event, action, repository: repoName, ref: headRef, sha, payload: { number, action, head_sha: sha, head_ref: headRef, merged: pr.merged === true, from_fork: fromFork, updated_at: updatedAt } };
  }
  return { event, action: typeof p.action === "string" ? p.action.slice(0, 64) : null, repository: repoName, ref: null, sha: null, payload: {} };
}

/** The branch a service deploys on push: its own auto_deploy_branch, else its environment's. */
const deployBranch = (c: Candidate) => c.service.autoDeployBranch ?? c.env.autoDeployBranch ?? null;

/** A push for one project: a pipeline at exactly the pushed commit for each service on that branch. */
type Start = (serviceId: string, sha: string) => string;
const systemStart = (deps: Deps): Start => (serviceId, sha) => startSystemPipeline(deps, serviceId, { kind: "auto", ref: sha }).job.id;

export function handlePush(deps: Deps, services: Candidate[], f: EventFields, start: Start = systemStart(deps)): ProjectOutcome {
  if (f.action === "deleted" || !f.sha || f.sha === ZERO_SHA) return { status: "ignored", message: "Branch deleted: nothing to deploy.", pipelineIds: [] };
  if (!f.ref?.startsWith("refs/heads/")) return { status: "ignored", message: `${f.ref ?? "The ref"} is not a branch: nothing to deploy.`, pipelineIds: [] };
  const branch = f.ref.slice("refs/heads/".length);
  const matching = services.filter((c) => !c.env.ephemeral && deployBranch(c) === branch);
  if (!matching.length) return { status: "ignored", message: `No service deploys branch '${branch}' of this repository (auto_deploy_branch).`, pipelineIds: [] };
  const pipelineIds: string[] = [];
  for (const c of matching) pipelineIds.push(start(c.service.id, f.sha));
  const names = matching.map((c) => `${c.env.slug}/${c.service.slug}`).join(", ");
  return { status: "accepted", message: `Deploying ${f.sha.slice(0, 12)} of '${branch}' to ${names}.`, pipelineIds };
}

export function dispatchEvent(deps: Deps, projectId: string, services: Candidate[], f: EventFields): ProjectOutcome {
  if (f.event === "ping") return { status: "accepted", message: "Ping received: the webhook is set up.", pipelineIds: [] };
  if (f.event === "push") return handlePush(deps, services, f);
  if (f.event === "pull_request") return handlePullRequest(deps, projectId, services, f);
  return { status: "ignored", message: `Event '${f.event}' is not used by Ancla.`, pipelineIds: [] };
}

/**
 * What makes a push or pull_request event itself (not its delivery): the signature covers only the
 * body, so a captured body sent again under a new X-GitHub-Delivery verifies. A push is its
 * (ref, before, after, repository.pushed_at) — the push time tells a real push back to an earlier
 * commit from a replay of the old one; a pull request event is its (number, action, head,
 * updated_at), which GitHub moves on every real event.
 */
function replayKey(event: string, p: Record<string, unknown>): string | null {
  if (event === "push") return JSON.stringify(["push", p.ref ?? null, p.before ?? null, p.after ?? null, p.pushed_at ?? null]);
  if (event === "pull_request") return JSON.stringify(["pull_request", p.number ?? null, p.action ?? null, p.head_sha ?? null, p.updated_at ?? null]);
  return null;
}

/** An earlier delivery of the same event that started something for this project (see replayKey). */
function replayOf(deps: Deps, projectId: string, f: EventFields): repo.DeliveryRow | null {
  const key = f.sha ? replayKey(f.event, f.payload) : null;
  if (!key || !f.sha) return null;
  return repo.acceptedDeliveriesAt(deps.db, projectId, f.event, f.sha).find((r) => r.repository === f.repository && replayKey(r.event, (r.payload ?? {}) as Record<string, unknown>) === key) ?? null;
}

function openSecret(deps: Deps, sealed: string): string | null {
  try {
    return deps.secrets.open(sealed);
  } catch {
    return null;
  }
}

function groupByProject(candidates: Candidate[]): Map<string, Candidate[]> {
  const m = new Map<string, Candidate[]>();
  for (const c of candidates) m.set(c.service.projectId, [...(m.get(c.service.projectId) ?? []), c]);
  return m;
}

/** Verify, record and act on one delivery; the answer is the reference's WebhookResponse. */
export function receiveDelivery(deps: Deps, d: Delivery): { ok: true; hook_id: string } {
  if (!EVENT.test(d.event)) throw new BadRequest("X-GitHub-Event header is missing or malformed.");
  if (!DELIVERY_ID.test(d.deliveryId)) throw new BadRequest("X-GitHub-Delivery header is missing or malformed.");
  if (!d.signature) throw new Unauthorized("X-Hub-Signature-256 header is missing: set a secret on the GitHub webhook.");
  const serverSecret = deps.config.githubWebhookSecret;
  const serverSigned = !!serverSecret && signatureMatches(serverSecret, d.body, d.signature);
  const payload = parsePayload(d.body, d.contentType);
  if (payload === undefined || typeof payload !== "object" || payload === null) {
    if (!serverSigned) throw new Unauthorized("The webhook signature does not match.");
    throw new BadRequest("The webhook body is not a JSON payload.");
  }
  const repository: PayloadRepository | null = payloadRepository(payload);
  const candidates = repository ? repo.servicesWithGitSource(deps.db).filter((c) => serviceUsesRepository(c.service, repository)) : [];
  const byProject = groupByProject(candidates);
  const secrets = new Map(repo.projectWebhookSecrets(deps.db, [...byProject.keys()]).map((r) => [r.projectId, r.secret!]));
  const verified = [...byProject.keys()].filter((id) => serverSigned || (secrets.has(id) && signatureMatches(openSecret(deps, secrets.get(id)!) ?? "", d.body, d.signature)));
  const f = eventFields(d.event, payload as Record<string, any>, repository?.fullName ?? null);
  f.payload.repo_keys = [...(repository?.keys ?? [])]; // a redelivery finds the services again
  const now = isoNow(deps);
  const record = (projectId: string, o: ProjectOutcome) =>
    repo.insertDelivery(deps.db, { id: newId(), deliveryId: d.deliveryId, projectId, event: f.event, action: f.action, repository: f.repository, ref: f.ref, commitSha: f.sha, status: o.status, message: o.message, pipelineIds: o.pipelineIds, payload: f.payload, redeliveryOf: null, createdAt: now });
  if (!verified.length && !serverSigned) {
    for (const projectId of byProject.keys()) record(projectId, { status: "refused", message: "Signature does not match this project's webhook secret or the server's; nothing was triggered.", pipelineIds: [] });
    throw new Unauthorized("The webhook signature does not match.");
  }
  for (const projectId of verified) {
    deps.sqlite.transaction(() => {
      if (repo.seenDelivery(deps.db, projectId, d.deliveryId)) return; // a retry or a replay: handled once
      const replayed = replayOf(deps, projectId, f);
      if (replayed) {
        record(projectId, { status: "ignored", message: `Duplicate of delivery ${replayed.deliveryId} (the same ${f.event} event, sent again under another delivery id): nothing was triggered.`, pipelineIds: [] });
        return;
      }
      let outcome: ProjectOutcome;
      try {
        // a savepoint: an event that fails half-way leaves no pipeline behind
        outcome = deps.sqlite.transaction(() => dispatchEvent(deps, projectId, byProject.get(projectId)!, f))();
      } catch (e) {
        outcome = { status: "error", message: deps.redactor.redact((e as Error).message), pipelineIds: [] };
      }
      record(projectId, outcome);
    })();
  }
  return { ok: true, hook_id: d.deliveryId };
}
