// Hostnames of a service on the router and parsing of incoming Host headers (pure).

export type HostNames = {
  org: string;
  project: string;
  env: string;
  service: string;
  isDefaultEnv: boolean;
  domains: string[];
};

/** `<service>.<env>.<project>.<org>.<domain>`, the short form for the default env, custom domains. */
export function hostnamesFor(s: HostNames, domain: string): string[] {
  const base = normalizeHost(domain) ?? domain.toLowerCase();
  const names = [`${s.service}.${s.env}.${s.project}.${s.org}.${base}`];
  if (s.isDefaultEnv) names.push(`${s.service}.${s.project}.${s.org}.${base}`);
  for (const d of s.domains) {
    const n = normalizeHost(d);
    if (n) names.push(n);
  }
  return names;
}

/**
 * A Host header (or URL authority) → lowercase hostname without port or trailing dot; null when
 * it is not a plausible hostname (so junk never matches a route).
 */
export function normalizeHost(header: string | null | undefined): string | null {
  if (!header) return null;
  let h = header.trim().toLowerCase();
  if (h.startsWith("[")) return null; // IPv6 literals never name an app
  const colon = h.lastIndexOf(":");
  if (colon !== -1) {
    const port = h.slice(colon + 1);
    if (!/^\d{1,5}$/.test(port)) return null;
    h = h.slice(0, colon);
  }
  if (h.endsWith(".")) h = h.slice(0, -1);
  if (!h || h.length > 253) return null;
  if (!/^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)*$/.test(h)) return null;
  return h;
}
