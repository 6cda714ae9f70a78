// Exec sessions: a single-use token (60 s) bound to the user, the service and the process type,
// handed out by POST …/exec and redeemed once by the SSH server or the WebSocket route; redeeming
// checks again that the user may still reach the service, picks a running replica of the process
// and starts the command there. Every session is recorded (who, when, service, command, exit).
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import { Conflict } from "../../errors";
import { newId, randomBase62, sha256Hex } from "../../lib/ids";
import type { ExecSession } from "../../targets/target";
import { findUserById } from "../auth/repo";
import { assertMayDeploy } from "../envs/access";
import { serviceAccessById, type ServiceAccess } from "../services/access";
import { capableTarget } from "./release-run";
import type { ExecInput } from "./model";
import * as repo from "./repo";
import { markedArgv, reapOnClose } from "./reaper";

export const TOKEN_TTL_MS = 60_000;
export const DEFAULT_SHELL = "/bin/sh";
const TOKEN_PREFIX = "ancla_exec_";

/** Where clients reach exec: the SSH server's address (null when off) and the API's public URL. */
export type ExecEndpoint = { sshHost: string; sshPort: number } | null;
const endpoints = new WeakMap<object, ExecEndpoint>();
export const setExecEndpoint = (deps: { db: object }, e: ExecEndpoint) => void endpoints.set(deps.db, e);
export const execEndpointOf = (deps: { db: object }): ExecEndpoint => endpoints.get(deps.db) ?? null;

export function publicBase(deps: Deps): string {
  return (deps.config.publicUrl ?? `http://${deps.config.listen}`).replace(/\/+$/, "");
}

/** The first running replica of the process type; 409 with a clear message when none runs. */
async function runningReplica(deps: Deps, access: ServiceAccess, process: string): Promise<string> {
  const target = capableTarget(deps, access, "exec", "Exec");
  const found = (await target.findReplicas({ serviceId: access.service.id, process })).filter((r) => r.running);
  if (!found.length) throw new Conflict(`No ${process} replica of ${access.service.slug} is running; deploy it or scale ${process} up first.`);
  found.sort((a, b) => (a.replica ?? 0) - (b.replica ?? 0));
  return found[0]!.id;
}

export async function createExecSession(deps: Deps, access: ServiceAccess, input: ExecInput) {
  assertMayDeploy(access);
  await runningReplica(deps, access, input.process); // 409 now rather than after ssh connected
  const endpoint = execEndpointOf(deps);
  const token = TOKEN_PREFIX + randomBase62(40);
  const now = deps.clock.now();
  const expiresAt = new Date(now.getTime() + TOKEN_TTL_MS).toISOString();
  const id = newId();
  repo.insertExecSession(deps.db, {
    id,
    tokenHash: sha256Hex(token),
    orgId: access.org.id,
    serviceId: access.service.id,
    servicePath: `${access.org.slug}/${access.project.slug}/${access.env.slug}/${access.service.slug}`,
    userId: access.actor.user.id,
    username: access.actor.user.username,
    process: input.process,
    command: input.command ?? DEFAULT_SHELL,
    expiresAt,
    createdAt: now.toISOString(),
  });
  const base = publicBase(deps);
  return {
    host: endpoint?.sshHost ?? new URL(base).hostname,
    port: endpoint?.sshPort ?? 0,
    token,
    websocket_url: `${base.replace(/^http/, "ws")}/api/v1/exec/ws`,
    expires_at: expiresAt,
    session_id: id,
  };
}

export type Redeemed = { session: repo.ExecSessionRow; access: ServiceAccess; replicaId: string };

/** Redeem a token once; null (and nothing said why, to the client) when it is not valid now. */
export async function redeemToken(deps: Deps, token: string, transport: "ssh" | "websocket", remote: string | null): Promise<Redeemed | null> {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return null;
  const session = repo.consumeExecToken(deps.db, sha256Hex(token), isoNow(deps), transport, remote);
  if (!session) return null;
  const fail = (why: string) => {
    repo.updateExecSession(deps.db, session.id, { finishedAt: isoNow(deps), exitCode: null });
    deps.logger.info("exec refused", { session: session.id, reason: why });
    return null;
  };
  const user = findUserById(deps.db, session.userId);
  // a user deactivated after asking for the token is out, as their keys and sessions are
  if (!user || !user.active) return fail("user gone or deactivated");
  let access: ServiceAccess;
  try {
    access = serviceAccessById(deps, { user, via: "session" }, session.serviceId);
    assertMayDeploy(access);
  } catch {
    return fail("no longer allowed");
  }
  try {
    const replicaId = await runningReplica(deps, access, session.process);
    repo.updateExecSession(deps.db, session.id, { replicaId });
    return { session, access, replicaId };
  } catch (e) {
    return fail((e as Error).message);
  }
}

/** Start the command in the replica; `command` overrides the session's (an SSH exec request names one). */
export async function startExec(deps: Deps, r: Redeemed, opts: { command?: string; tty: boolean; cols?: number; rows?: number; term?: string }): Promise<ExecSession> {
  const target = capableTarget(deps, r.access, "exec", "Exec");
  const command = opts.command ?? r.session.command;
  if (command !== r.session.command) repo.updateExecSession(deps.db, r.session.id, { command: command.slice(0, 4096) });
  // a shell line, as `ssh host 'cmd args'` means on any host; the default shell alone runs as is;
  // both marked, so what they start can be ended when the client goes away (reaper.ts)
  const argv = markedArgv(r.session.id, command === DEFAULT_SHELL ? null : command, DEFAULT_SHELL);
  const started = await target.exec({ replicaId: r.replicaId, command: argv, tty: opts.tty, cols: opts.cols, rows: opts.rows, term: opts.term });
  const session = reapOnClose(target, r.replicaId, r.session.id, started, (e) => deps.logger.warn("ending a disconnected exec failed", { session: r.session.id, error: e.message }));
  void session.exited.then((code) => repo.updateExecSession(deps.db, r.session.id, { finishedAt: isoNow(deps), exitCode: code }));
  return session;
}

export function toExecSessionView(s: repo.ExecSessionRow) {
  return {
    id: s.id,
    service: s.servicePath,
    service_id: s.serviceId,
    user_id: s.userId,
    username: s.username,
    process: s.process,
    command: s.command,
    created: s.createdAt,
    expires_at: s.expiresAt,
    used_at: s.usedAt,
    transport: s.transport,
    remote_address: s.remoteAddress,
    replica_id: s.replicaId,
    finished: s.finishedAt,
    exit_code: s.exitCode,
  };
}
