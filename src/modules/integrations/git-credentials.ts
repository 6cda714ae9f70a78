// Private repositories: a per-service SSH deploy key made by Ancla (ssh-keygen, ed25519; the
// public half shown, the private half sealed and only ever written, 0600, next to a build's
// checkout for the length of the clone) with the remote's host keys pinned at the first clone,
// or an HTTPS token sent as an Authorization header through git's environment, never argv.
import { createHash } from "node:crypto";
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import { AppError, Forbidden, NotFound } from "../../errors";
import type { GitRemote } from "../../lib/git-source";
import { refreshServerRedactor } from "../config-vars/redaction";
import { BuildError } from "../images/git-context";
import type { GitAuth } from "../images/hooks";
import type { ServiceAccess } from "../services/access";
import * as repo from "./repo";

export type HostKey = { host: string; type: string; fingerprint: string };
export type DeployKeyView = { public_key: string | null; fingerprint: string | null; known_hosts: HostKey[]; known_hosts_pinned_at: string | null; https_token_set: boolean; created: string | null };

const fingerprintOf = (base64Blob: string) => "SHA256:" + createHash("sha256").update(Buffer.from(base64Blob, "base64")).digest("base64").replace(/=+$/, "");

/** known_hosts lines → host, key type and SHA256 fingerprint (what `ssh-keygen -lf` prints). */
export function parseKnownHosts(text: string | null): HostKey[] {
  return (text ?? "")
    .split("\n")
    .map((l) => l.trim().split(/\s+/))
    .filter((f) => f.length >= 3 && !f[0]!.startsWith("#"))
    .map(([host, type, blob]) => ({ host: host!, type: type!, fingerprint: fingerprintOf(blob!) }));
}

export function deployKeyView(deps: Deps, serviceId: string): DeployKeyView {
  const row = repo.findGitCredentials(deps.db, serviceId);
  return {
    public_key: row?.deployKeyPublic ?? null,
    fingerprint: row?.deployKeyFingerprint ?? null,
    known_hosts: parseKnownHosts(row?.knownHosts ?? null),
    known_hosts_pinned_at: row?.knownHostsPinnedAt ?? null,
    https_token_set: !!row?.httpsToken,
    created: row?.deployKeyPublic ? row.updatedAt : null,
  };
}

async function sshKeygen(comment: string): Promise<{ privateKey: string; publicKey: string }> {
  const dir = mkdtempSync(join(tmpdir(), "ancla-keygen-"));
  try {
    chmodSync(dir, 0o700);
    const file = join(dir, "key");
    const proc = Bun.spawn(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", comment, "-f", file], { stdin: "ignore", stdout: "ignore", stderr: "pipe" });
    const [err, code] = await Promise.all([new Response(proc.stderr).text(), proc.exited]);
    if (code !== 0) throw new AppError(500, `Could not generate a deploy key (ssh-keygen exited with ${code}${err.trim() ? "" : ""}).`, "internal", 1);
    return { privateKey: readFileSync(file, "utf8"), publicKey: readFileSync(`${file}.pub`, "utf8").trim() };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

/**
 * Which repository access a protected environment's builds use (its deploy key, pinned host keys,
 * HTTPS token) is an org admin's, like deploying there: a member could otherwise point what an admin
 * deploys at other code, or break its builds.
 */
function assertMayChangeCredentials(access: ServiceAccess): void {
  if (access.env.protected && !access.isAdmin)
    throw new Forbidden(`Environment '${access.env.slug}' is protected; only organization admins may change a service's git credentials there.`);
}

/** A new key pair replaces any previous one (and its pinned host keys stay: the host did not change). */
export async function createDeployKey(deps: Deps, access: ServiceAccess): Promise<DeployKeyView> {
  assertMayChangeCredentials(access);
  const comment = `ancla-deploy-key ${access.org.slug}/${access.project.slug}/${access.env.slug}/${access.service.slug}`;
  const { privateKey, publicKey } = await sshKeygen(comment);
  repo.upsertGitCredentials(deps.db, access.service.id, { deployKeyPublic: publicKey, deployKeyPrivate: deps.secrets.seal(privateKey), deployKeyFingerprint: fingerprintOf(publicKey.split(/\s+/)[1]!), updatedAt: isoNow(deps) });
  return deployKeyView(deps, access.service.id);
}

export function deleteDeployKey(deps: Deps, access: ServiceAccess): DeployKeyView {
  assertMayChangeCredentials(access);
  if (!repo.findGitCredentials(deps.db, access.service.id)?.deployKeyPublic) throw new NotFound("Deploy key");
  repo.upsertGitCredentials(deps.db, access.service.id, { deployKeyPublic: null, deployKeyPrivate: null, deployKeyFingerprint: null, knownHosts: null, knownHostsPinnedAt: null, updatedAt: isoNow(deps) });
  return deployKeyView(deps, access.service.id);
}

/** Forget the pinned host keys: the next clone pins what the host presents then. */
export function resetKnownHosts(deps: Deps, access: ServiceAccess): DeployKeyView {
  assertMayChangeCredentials(access);
  repo.upsertGitCredentials(deps.db, access.service.id, { knownHosts: null, knownHostsPinnedAt: null, updatedAt: isoNow(deps) });
  return deployKeyView(deps, access.service.id);
}

export function setHttpsToken(deps: Deps, access: ServiceAccess, token: string | null): DeployKeyView {
  assertMayChangeCredentials(access);
  repo.upsertGitCredentials(deps.db, access.service.id, { httpsToken: token === null ? null : deps.secrets.seal(token), updatedAt: isoNow(deps) });
  refreshServerRedactor(deps);
  return deployKeyView(deps, access.service.id);
}

/** Single-quoted for the shell git runs GIT_SSH_COMMAND with; the paths are the server's own. */
const shq = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;

/** The images module's hook: credentials for one clone of this service's repository. */
export function gitAuthFor(deps: Deps, serviceId: string, remote: GitRemote, workDir: string): GitAuth | null {
  const row = repo.findGitCredentials(deps.db, serviceId);
  if (!row) return null;
  if (remote.transport === "ssh" && row.deployKeyPrivate) {
    const dir = join(workDir, "ssh");
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const keyFile = join(dir, "deploy_key");
    const knownHosts = join(dir, "known_hosts");
    writeFileSync(keyFile, deps.secrets.open(row.deployKeyPrivate), { mode: 0o600 });
    writeFileSync(knownHosts, row.knownHosts ?? "", { mode: 0o600 });
    const pinned = !!row.knownHosts;
    // the clone connects to the checked address, not the name (lib/git-source clonePlan): pin the key
    // under the name the user gave, so a host behind several or changing addresses keeps its pin
    const alias = remote.port === 22 ? remote.host : `[${remote.host}]:${remote.port}`;
    const ssh = ["ssh", "-F", "/dev/null", "-i", shq(keyFile), "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes", "-o", "IdentityAgent=none", "-o", `UserKnownHostsFile=${shq(knownHosts)}`, "-o", "GlobalKnownHostsFile=/dev/null", "-o", `HostKeyAlias=${shq(alias)}`, "-o", "CheckHostIP=no", "-o", `StrictHostKeyChecking=${pinned ? "yes" : "accept-new"}`];
    return {
      env: { GIT_SSH_COMMAND: ssh.join(" "), GIT_SSH_VARIANT: "ssh" },
      note: `using the service's deploy key ${row.deployKeyFingerprint}; ${pinned ? "host key pinned" : "the host key is pinned at this first clone"}`,
      finish(ok, error) {
        const learned = ok && !pinned && existsSync(knownHosts) ? readFileSync(knownHosts, "utf8").trim() : "";
        rmSync(dir, { recursive: true, force: true });
        if (learned) repo.upsertGitCredentials(deps.db, serviceId, { knownHosts: learned + "\n", knownHostsPinnedAt: isoNow(deps), updatedAt: isoNow(deps) });
        if (!ok && pinned && /host key verification failed|REMOTE HOST IDENTIFICATION HAS CHANGED/i.test(error ?? "")) {
          return `The SSH host key of ${remote.host} is not the one pinned at the first clone (${parseKnownHosts(row.knownHosts).map((k) => k.fingerprint).join(", ")}); refused. If the host's key really changed, reset the pinned key (ancla deploy-key reset-host, or DELETE …/deploy-key/known-hosts) and deploy again.`;
        }
        return undefined;
      },
    };
  }
  // a token never travels in clear text: plain http only to this machine (a git server on loopback)
  if (remote.transport === "http" && row.httpsToken && !/^(127(\.\d{1,3}){3}|\[?::1\]?|localhost)$/i.test(remote.host)) {
    throw new BuildError(`The service's HTTPS token is only sent over https: ${remote.host} is reached over plain http, where anyone on the way could read it. Use an https:// Git URL.`);
  }
  if ((remote.transport === "https" || remote.transport === "http") && row.httpsToken) {
    const header = "Authorization: Basic " + Buffer.from(`x-access-token:${deps.secrets.open(row.httpsToken)}`).toString("base64");
    return { env: { GIT_CONFIG_COUNT: "1", GIT_CONFIG_KEY_0: "http.extraHeader", GIT_CONFIG_VALUE_0: header }, note: "using the service's HTTPS token", finish: () => undefined };
  }
  return null;
}
