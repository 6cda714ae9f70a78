// Automatic HTTPS: decides which hostnames need a certificate, issues them one at a time through
// ACME HTTP-01 (answered by the router), keeps them sealed in the database and hands the router
// the set to serve by SNI — again after every issuance and renewal, without a restart.
// Hostnames: generated names under a real --domain (never *.localhost) and custom domains that
// pass the domain check. Issued eagerly for services with running replicas, on demand (a request
// for the host) for the rest; renewed 30 days before expiry. Failures back off per hostname.
import type { Deps } from "../../deps";
import { Unprocessable } from "../../errors";
import { isoNow } from "../../deps";
import type { AcmeHooks, RunningRouter, TlsCertificate } from "../../router/proxy";
import type { RouteTable } from "../../router/table";
import { baseDomain, isUnder, needsCertificate } from "./names";
import type { ChallengeStore } from "./acme";
import { domainProblem } from "./domain-check";
import * as repo from "./repo";

export const RENEW_BEFORE_MS = 30 * 24 * 3600 * 1000;
// after the n-th failure in a row a hostname waits this long (Let's Encrypt allows 5 failed
// validations per name per hour; the first retry comes after the operator had a minute to fix DNS)
export const BACKOFF_MS = [60_000, 5 * 60_000, 30 * 60_000, 2 * 3600_000, 6 * 3600_000];
// on-demand requests for one host are considered at most this often
const WANT_THROTTLE_MS = 10_000;

export type CertificateManager = {
  hooks: AcmeHooks;
  certificates: () => TlsCertificate[];
  attach: (router: RunningRouter) => void;
  /** Queue what is missing or due for renewal and refresh the per-service HTTPS policies. */
  tick: () => void;
  /** Resolves when the queue is empty (tests). */
  idle: () => Promise<void>;
};

type Live = { cert: string; key: string };

export async function createCertificateManager(deps: Deps, table: RouteTable): Promise<CertificateManager> {
  if (!deps.config.acmeEmail) throw new Unprocessable("--https needs --acme-email (the ACME account's contact for expiry notices)");
  const challenges: ChallengeStore = new Map();
  // loaded here, not at start: acme-client and @peculiar/x509 hold ~20 MiB that a server without --https never needs
  const { acmeErrorText, issueCertificate } = await import("./acme");
  const fallback = await (await import("./fallback")).selfSignedDefault();
  const live = new Map<string, Live>();
  const base = baseDomain(deps.config.domain);
  const queue = new Set<string>();
  const lastWanted = new Map<string, number>();
  let router: RunningRouter | undefined;
  let running: Promise<void> | null = null;

  /** Loads an issued row into the served set; false when it cannot be opened. */
  const reload = (row: repo.CertificateRow): boolean => {
    try {
      live.set(row.hostname, { cert: deps.secrets.open(row.certSealed!), key: deps.secrets.open(row.keySealed!) });
      return true;
    } catch {
      deps.logger.warn("certificate unreadable (sealed under another key?); it will be issued again", { hostname: row.hostname });
      return false;
    }
  };
  for (const row of repo.issuedCertificates(deps.db)) reload(row);

  const certificates = (): TlsCertificate[] => [fallback, ...[...live].map(([serverName, c]) => ({ serverName, ...c }))];

  const want = (host: string): void => {
    if (queue.has(host) || !needsCertificate(host, base)) return;
    const row = repo.findCertificate(deps.db, host);
    const now = deps.clock.now().getTime();
    // a name routed again (a domain given back, a service re-created) serves its stored certificate
    if (row?.status === "issued" && !live.has(host) && Date.parse(row.notAfter ?? "") > now && reload(row)) void router?.setCertificates(certificates());
    if (row?.nextAttemptAt && Date.parse(row.nextAttemptAt) > now) return;
    if (row?.status === "issued" && live.has(host) && Date.parse(row.notAfter ?? "") - now > RENEW_BEFORE_MS) return;
    queue.add(host);
    // a renewal keeps showing "issued" (the old certificate still serves); a first one is pending
    if (row?.status !== "issued") repo.saveCertificate(deps.db, { hostname: host, status: "pending", error: null, updatedAt: isoNow(deps) });
    running ??= pump().finally(() => (running = null));
  };

  const pump = async (): Promise<void> => {
    for (const host of queue) {
      await issueOne(host);
      queue.delete(host);
    }
  };

  const issueOne = async (host: string): Promise<void> => {
    const now = isoNow(deps);
    try {
      if (!isUnder(host, base)) {
        const problem = await domainProblem(deps, host, challenges);
        if (problem) return fail(host, problem, now);
      }
      const issued = await issueCertificate(deps, host, challenges);
      repo.saveCertificate(deps.db, {
        hostname: host,
        status: "issued",
        error: null,
        certSealed: deps.secrets.seal(issued.cert),
        keySealed: deps.secrets.seal(issued.key),
        notBefore: issued.notBefore,
        notAfter: issued.notAfter,
        failures: 0,
        lastAttemptAt: now,
        nextAttemptAt: null,
        updatedAt: isoNow(deps),
      });
      live.set(host, { cert: issued.cert, key: issued.key });
      deps.logger.info("certificate issued", { hostname: host, expires: issued.notAfter });
      await router?.setCertificates(certificates());
    } catch (e) {
      fail(host, acmeErrorText(e), now);
    }
  };

  const fail = (host: string, error: string, attemptAt: string): void => {
    const failures = (repo.findCertificate(deps.db, host)?.failures ?? 0) + 1;
    const wait = BACKOFF_MS[Math.min(failures - 1, BACKOFF_MS.length - 1)]!;
    const next = new Date(deps.clock.now().getTime() + wait).toISOString();
    const status = live.has(host) ? "issued" : "failed";
    repo.saveCertificate(deps.db, { hostname: host, status, error, failures, lastAttemptAt: attemptAt, nextAttemptAt: next, updatedAt: isoNow(deps) });
    deps.logger.warn("certificate request failed", { hostname: host, error, retry_at: next });
  };

  const tick = (): void => {
    table.setHttpsPolicies(repo.httpsPolicies(deps.db));
    // names nothing routes any more (a deleted service, a released custom domain) leave the SNI
    // set: their certificate is not served for a host that is someone else's now; the sealed row
    // stays, so the name coming back serves it again without asking the CA
    let dropped = false;
    for (const host of [...live.keys()]) {
      if (table.serviceFor(host) || queue.has(host)) continue;
      live.delete(host);
      dropped = true;
    }
    if (dropped) {
      deps.logger.info("certificates unloaded for names no longer routed", { served: live.size });
      void router?.setCertificates(certificates());
    }
    for (const host of table.hostnames()) {
      const id = table.serviceFor(host);
      if (id && table.replicasOf(id).length) want(host);
    }
    // renewals of names whose services run nothing at the moment, too
    for (const row of repo.issuedExpiries(deps.db)) if (table.serviceFor(row.hostname)) want(row.hostname);
  };

  const hooks: AcmeHooks = {
    challenge: (token) => challenges.get(token),
    hasCertificate: (host) => live.has(host),
    wanted: (host) => {
      const now = Date.now();
      if ((lastWanted.get(host) ?? 0) > now - WANT_THROTTLE_MS) return;
      if (lastWanted.size > 10_000) lastWanted.clear();
      lastWanted.set(host, now);
      want(host);
    },
  };

  return {
    hooks,
    certificates,
    attach: (r) => void (router = r),
    tick,
    idle: async () => {
      while (running) await running;
    },
  };
}
