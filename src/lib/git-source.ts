// Which git remotes the server may contact on a user's behalf. Checked after DNS resolution (every
// address must be public unless the operator allows it with --git-allow-hosts), once when a
// service's git source is set and again right before each clone, because DNS answers change.
// The clone is then pinned to the checked addresses and limited to the checked transport.
import { lookup } from "node:dns/promises";
import { inCidr, nonPublicKind, parseCidr, parseIp, type Cidr } from "./ip-address";

export class GitSourceRefused extends Error {}

type NetTransport = "http" | "https" | "ssh" | "git";
export type GitRemote =
  | { transport: "file"; url: string }
  | { transport: NetTransport; url: string; host: string; port: number; user: string; path: string; scpLike: boolean };

export type GitPolicy = {
  /** file:// repositories on the server's own disk: server administrators only. */
  allowLocal: boolean;
  /** The operator's --git-allow-hosts entries: CIDRs, addresses, host names or `*.suffix`. */
  allow: string[];
  /** A name that does not resolve: accepted when a service is saved (the clone checks again), refused before a clone. */
  unresolved: "accept" | "refuse";
};

export type Resolver = (host: string) => Promise<string[]>;
export const systemResolver: Resolver = async (host) => (await lookup(host, { all: true, verbatim: true })).map((a) => a.address);

export type CheckedRemote = { remote: GitRemote; addresses: string[] };

const HELPER = /^[A-Za-z][A-Za-z0-9+.-]*::/; // git's `<transport>::<address>` runs git-remote-<transport>
const SCP_LIKE = /^([A-Za-z0-9._-]+)@([A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?):([^\s:][^\s]*)$/;
const DEFAULT_PORT: Record<NetTransport, number> = { http: 80, https: 443, ssh: 22, git: 9418 };
const ALLOW_HINT = "a server admin can allow it with `ancla serve --git-allow-hosts`";

const refused = (message: string) => new GitSourceRefused(message);
const bareHost = (h: string) => h.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();

/** What git would do with `url`: which transport, which host. Throws for anything else. */
export function parseGitRemote(url: string): GitRemote {
  if (HELPER.test(url)) throw refused("git remote helpers such as ext:: and file:: are never allowed");
  if (/[\\\s\u0000-\u001f\u007f]/.test(url)) throw refused("the git URL must not contain backslashes, whitespace or control characters");
  const scp = !url.includes("://") ? SCP_LIKE.exec(url) : null;
  if (scp) return { transport: "ssh", url, user: scp[1]!, host: bareHost(scp[2]!), port: 22, path: scp[3]!, scpLike: true };
  let u: URL;
  try {
    u = new URL(url);
  } catch {
    throw refused("local paths are not git URLs the server may clone; use https, http, ssh or git URLs");
  }
  const scheme = u.protocol.slice(0, -1);
  if (scheme === "file") return { transport: "file", url: u.href };
  if (!(scheme in DEFAULT_PORT)) throw refused(`the '${scheme}' transport is not allowed (use https, http, ssh or git)`);
  const transport = scheme as NetTransport;
  if (!u.hostname) throw refused("the git URL must name a host");
  const port = u.port ? Number(u.port) : DEFAULT_PORT[transport];
  // git gets the URL exactly as parsed here, so it connects to the host that was checked
  return { transport, url: u.href, host: bareHost(u.hostname), port, user: u.username, path: u.pathname, scpLike: false };
}

type AllowRules = { cidrs: Cidr[]; names: string[]; suffixes: string[] };
function allowRules(entries: string[]): AllowRules {
  const rules: AllowRules = { cidrs: [], names: [], suffixes: [] };
  for (const raw of entries.map((e) => e.trim().toLowerCase()).filter(Boolean)) {
    const cidr = parseCidr(raw);
    if (cidr) rules.cidrs.push(cidr);
    else if (raw.startsWith("*.")) rules.suffixes.push(raw.slice(1));
    else rules.names.push(bareHost(raw));
  }
  return rules;
}

/** Entries of --git-allow-hosts that are neither a CIDR/address nor a host name (for config validation). */
export const badAllowEntries = (entries: string[]): string[] =>
  entries.map((e) => e.trim()).filter((e) => e && !parseCidr(e) && !/^(\*\.)?[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?\.?$/.test(e));

const withTimeout = <T>(p: Promise<T>, ms: number): Promise<T> =>
  Promise.race([p, new Promise<T>((_, reject) => setTimeout(() => reject(new Error("DNS lookup timed out")), ms))]);

/** Refuses (GitSourceRefused) a remote the policy does not allow; returns the addresses checked. */
export async function checkGitSource(url: string, policy: GitPolicy, resolve: Resolver = systemResolver): Promise<CheckedRemote> {
  const remote = parseGitRemote(url);
  if (remote.transport === "file") {
    if (!policy.allowLocal) throw refused("file:// repositories read the server's own disk; only server administrators may use them");
    return { remote, addresses: [] };
  }
  const rules = allowRules(policy.allow);
  const { host } = remote;
  if (rules.names.includes(host) || rules.suffixes.some((s) => host.endsWith(s))) return { remote, addresses: [] };
  let addresses: string[] = [];
  if (parseIp(host)) addresses = [host];
  else {
    try {
      addresses = await withTimeout(resolve(host), 5_000);
    } catch {
      addresses = [];
    }
    if (!addresses.length) {
      if (policy.unresolved === "accept") return { remote, addresses: [] };
      throw refused(`git host '${host}' does not resolve`);
    }
  }
  for (const a of addresses) {
    const ip = parseIp(a);
    if (!ip) throw refused(`git host '${host}' resolves to '${a}', which is not an IP address`);
    if (rules.cidrs.some((c) => inCidr(ip, c))) continue;
    const kind = nonPublicKind(ip);
    if (kind) throw refused(`git host '${host}' resolves to ${a} (${kind}); only public addresses are allowed — ${ALLOW_HINT}`);
  }
  return { remote, addresses };
}

const ipInUrl = (a: string) => (a.includes(":") ? `[${a}]` : a);

/** The URL git is given and its `-c` options: only the checked transport, no redirects, pinned addresses. */
export function clonePlan(checked: CheckedRemote): { url: string; config: string[] } {
  const { remote, addresses } = checked;
  const config = ["protocol.allow=never", `protocol.${remote.transport}.allow=always`];
  let url = remote.url;
  if (remote.transport === "http" || remote.transport === "https") {
    config.push("http.followRedirects=false"); // a redirect could lead to an address nobody checked
    // curl connects to these addresses instead of resolving the name again (TLS still checks the name)
    if (addresses.length && !parseIp(remote.host)) config.push(`http.curloptResolve=${remote.host}:${remote.port}:${addresses.map(ipInUrl).join(",")}`);
  } else if (remote.transport !== "file" && addresses.length && !parseIp(remote.host)) {
    // ssh and git:// resolve names themselves: give them the checked address instead of the name
    const ip = ipInUrl(addresses[0]!);
    if (remote.scpLike) url = `${remote.user}@${ip}:${remote.path}`;
    else {
      const u = new URL(remote.url);
      u.hostname = ip;
      url = u.href;
    }
  }
  return { url, config: config.flatMap((c) => ["-c", c]) };
}
