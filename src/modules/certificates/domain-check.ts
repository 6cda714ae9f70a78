// Before a certificate is requested for a custom domain: does the name lead here? First by DNS
// (an A/AAAA record equal to one of this host's addresses), else by the HTTP-01 self-check (a
// random token served by our router, fetched through the name's addresses, as the CA would) — so
// a server behind NAT or a load balancer passes too. Asking the CA for names that point elsewhere
// would only burn its rate limits (Let's Encrypt: 5 failed validations per name per hour).
import { Resolver } from "node:dns/promises";
import { networkInterfaces } from "node:os";
import { randomBytes } from "node:crypto";
import { splitHostPort } from "../../config";
import type { Deps } from "../../deps";
import type { ChallengeStore } from "./acme";

const DNS_TIMEOUT_MS = 3000;
const SELF_CHECK_TIMEOUT_MS = 5000;

function localAddresses(deps: Deps): Set<string> {
  const out = new Set<string>();
  for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) out.add(a.address);
  for (const listen of [deps.config.https, deps.config.router]) if (listen) out.add(splitHostPort(listen).hostname);
  return out;
}

async function resolveAll(deps: Deps, hostname: string): Promise<string[]> {
  const resolver = new Resolver({ timeout: DNS_TIMEOUT_MS, tries: 2 });
  if (deps.config.dnsServer) resolver.setServers([deps.config.dnsServer]);
  const [v4, v6] = await Promise.all([resolver.resolve4(hostname).catch(() => []), resolver.resolve6(hostname).catch(() => [])]);
  return [...v4, ...v6];
}

/** null when `hostname` leads to this server; else a sentence saying what it leads to. */
export async function domainProblem(deps: Deps, hostname: string, challenges: ChallengeStore): Promise<string | null> {
  const addresses = await resolveAll(deps, hostname);
  if (!addresses.length) return `${hostname} has no A or AAAA record; point it at this server first`;
  const local = localAddresses(deps);
  if (addresses.some((a) => local.has(a))) return null;
  const token = randomBytes(24).toString("base64url");
  const value = randomBytes(24).toString("base64url");
  challenges.set(token, value);
  try {
    const port = splitHostPort(deps.config.router).port;
    for (const a of addresses) {
      const url = `http://${a.includes(":") ? `[${a}]` : a}:${port}/.well-known/acme-challenge/${token}`;
      const body = await fetch(url, { headers: { host: hostname }, redirect: "manual", signal: AbortSignal.timeout(SELF_CHECK_TIMEOUT_MS) })
        .then((r) => (r.ok ? r.text() : ""))
        .catch(() => "");
      if (body === value) return null;
    }
  } finally {
    challenges.delete(token);
  }
  return `${hostname} resolves to ${addresses.join(", ")}, which is not this server, and an HTTP request for it did not reach this router`;
}
