// Which hostnames get certificates: generated names under a real --domain (never *.localhost)
// and custom domains (everything else a service routes). Pure.
import { normalizeHost } from "../../router/hosts";

export const baseDomain = (configured: string): string => normalizeHost(configured) ?? configured.toLowerCase();
export const isUnder = (host: string, base: string): boolean => host === base || host.endsWith("." + base);
const isLocal = (host: string): boolean => host === "localhost" || host.endsWith(".localhost");

export function needsCertificate(host: string, base: string): boolean {
  if (isLocal(host)) return false;
  if (isUnder(host, base)) return !isLocal(base);
  return true;
}
