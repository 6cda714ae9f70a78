// A service's hostnames with the state of their certificates, for the API, CLI and dashboard.
import type { Deps } from "../../deps";
import { splitHostPort } from "../../config";
import { hostnamesFor, type HostNames } from "../../router/hosts";
import type { CertificateRow } from "./repo";
import * as repo from "./repo";
import type { DomainView } from "./model";
import { baseDomain, isUnder, needsCertificate } from "./names";

const view = (row: CertificateRow | undefined): DomainView["certificate"] =>
  row
    ? {
        status: row.status as "pending" | "issued" | "failed",
        issued_at: row.status === "issued" || row.notBefore ? row.notBefore : null,
        expires_at: row.notAfter,
        error: row.error,
        last_attempt_at: row.lastAttemptAt,
        next_attempt_at: row.nextAttemptAt,
      }
    : { status: "pending", issued_at: null, expires_at: null, error: null, last_attempt_at: null, next_attempt_at: null };

const origin = (scheme: "http" | "https", host: string, listen: string): string => {
  const port = splitHostPort(listen).port;
  return `${scheme}://${host}${port === (scheme === "https" ? 443 : 80) ? "" : `:${port}`}`;
};

export function domainViews(deps: Pick<Deps, "db" | "config">, names: HostNames): DomainView[] {
  const base = baseDomain(deps.config.domain);
  const hosts = hostnamesFor(names, deps.config.domain);
  const https = deps.config.https;
  const rows = new Map(https ? repo.listCertificates(deps.db, hosts).map((r) => [r.hostname, r]) : []);
  return hosts.map((hostname) => {
    const certificate = https && needsCertificate(hostname, base) ? view(rows.get(hostname)) : null;
    const secure = https && certificate?.status === "issued";
    return {
      hostname,
      kind: isUnder(hostname, base) ? "generated" : "custom",
      url: secure ? origin("https", hostname, https) : origin("http", hostname, deps.config.router),
      certificate,
    };
  });
}
