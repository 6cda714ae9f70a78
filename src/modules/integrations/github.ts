// GitHub webhook facts, pure: the X-Hub-Signature-256 check (HMAC-SHA256 over the raw body,
// compared in constant time) and which repository a payload names, in a form that compares
// equal to a service's git_url whichever URL style either side uses.
import { createHmac, timingSafeEqual } from "node:crypto";

/** True when `header` is `sha256=<hex>` of HMAC-SHA256(secret, body). */
export function signatureMatches(secret: string, body: Uint8Array, header: string | null): boolean {
  if (!header || !/^sha256=[0-9a-f]{64}$/i.test(header.trim())) return false;
  const given = Buffer.from(header.trim().slice(7), "hex");
  const expected = createHmac("sha256", secret).update(body).digest();
  return given.length === expected.length && timingSafeEqual(given, expected);
}

const DEFAULT_PORTS: Record<string, string> = { "http:": "80", "https:": "443", "ssh:": "22", "git:": "9418" };
const SCP_LIKE = /^[A-Za-z0-9._-]+@([^:/\s]+):(?!\/)(.+)$/;
const trimPath = (p: string) => p.replace(/^\/+/, "").replace(/\/+$/, "").replace(/\.git$/i, "").toLowerCase();

/** `host[:port]/owner/name` for any git URL style (https, ssh, scp-like, git://, file://); null when unreadable. */
export function repositoryKey(url: string): string | null {
  const scp = !url.includes("://") ? SCP_LIKE.exec(url.trim()) : null;
  if (scp) return `${scp[1]!.toLowerCase()}/${trimPath(scp[2]!)}`;
  try {
    const u = new URL(url.trim());
    if (u.protocol === "file:") return `file:/${trimPath(decodeURIComponent(u.pathname))}`;
    if (!u.hostname) return null;
    const port = u.port && u.port !== DEFAULT_PORTS[u.protocol] ? `:${u.port}` : "";
    return `${u.hostname.toLowerCase()}${port}/${trimPath(decodeURIComponent(u.pathname))}`;
  } catch {
    return null;
  }
}

export type PayloadRepository = { fullName: string | null; keys: Set<string> };

/** The repository of a webhook payload: its full name and the keys of every URL GitHub lists for it. */
export function payloadRepository(payload: unknown): PayloadRepository | null {
  const repo = (payload as { repository?: Record<string, unknown> } | null)?.repository;
  if (!repo || typeof repo !== "object") return null;
  const keys = new Set<string>();
  for (const field of ["clone_url", "ssh_url", "git_url", "html_url", "svn_url", "url"]) {
    const v = repo[field];
    if (typeof v === "string" && v.length <= 2048) {
      const k = repositoryKey(v);
      if (k) keys.add(k);
    }
  }
  const fullName = typeof repo.full_name === "string" && repo.full_name.length <= 255 ? repo.full_name.toLowerCase() : null;
  return { fullName, keys };
}

/** Does a service's source (`git_url` wins over `github_repository`, as for builds) name this repository? */
export function serviceUsesRepository(s: { gitUrl: string | null; githubRepository: string | null }, repo: PayloadRepository): boolean {
  if (s.gitUrl) {
    const k = repositoryKey(s.gitUrl);
    return !!k && repo.keys.has(k);
  }
  // github_repository means github.com (builds clone https://github.com/<owner>/<name>.git)
  if (s.githubRepository) return repo.keys.has(`github.com/${s.githubRepository.toLowerCase()}`);
  return false;
}

const SHA = /^[0-9a-f]{40}$/;
export const isCommitSha = (s: unknown): s is string => typeof s === "string" && SHA.test(s);
export const ZERO_SHA = "0".repeat(40);
