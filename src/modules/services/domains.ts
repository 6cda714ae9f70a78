// Who may claim a hostname. Names under --domain belong to the generated app hostnames
// (`<service>.<env>.<project>.<org>.<domain>`), so no service may take another's — or a future
// service's — as a custom domain. Custom domains are owned through service_domains' primary key:
// the database, not the order of a query, decides between two services wanting the same name.
import type { Db } from "../../db/client";
import * as repo from "./repo";
import type { Deps } from "../../deps";
import { Conflict, invalidField } from "../../errors";
import { hostnamesFor, normalizeHost, type HostNames } from "../../router/hosts";

/** The server's base domain as hostnames are compared against it. */
export const baseDomainOf = (deps: Pick<Deps, "config">): string => normalizeHost(deps.config.domain) ?? deps.config.domain.toLowerCase();

/** True when `host` is the base domain itself or any name below it. */
export const isUnderDomain = (host: string, base: string): boolean => host === base || host.endsWith("." + base);

/**
 * 422 for a custom domain under --domain, unless it is one of the service's own generated names
 * (harmless: those route to it anyway).
 */
export function assertDomainsAllowed(deps: Pick<Deps, "config">, names: Omit<HostNames, "domains">, domains: string[] | undefined): void {
  if (!domains?.length) return;
  const base = baseDomainOf(deps);
  const own = new Set(hostnamesFor({ ...names, domains: [] }, base));
  for (const d of domains) {
    if (isUnderDomain(d, base) && !own.has(d)) {
      throw invalidField(
        "domains",
        `'${d}' is under this server's domain '${base}', whose names are reserved for generated app hostnames (<service>.<env>.<project>.<org>.${base}); use a domain outside it`,
      );
    }
  }
}

const isUniqueViolation = (e: unknown): boolean => {
  const codeOf = (x: unknown) => String((x as { code?: unknown } | null)?.code ?? "");
  return [codeOf(e), codeOf((e as { cause?: unknown } | null)?.cause)].some((c) => c.startsWith("SQLITE_CONSTRAINT_PRIMARYKEY") || c.startsWith("SQLITE_CONSTRAINT_UNIQUE"));
};

/**
 * Makes the service's rows in service_domains equal `domains`, inside the caller's transaction
 * (so `services.domains` and the owners never disagree). A name another service owns → 409.
 */
export function claimDomains(db: Db, serviceId: string, domains: string[], now: string): void {
  const held = new Set(repo.heldDomains(db, serviceId));
  const wanted = new Set(domains);
  for (const h of held) if (!wanted.has(h)) repo.releaseDomain(db, h);
  for (const hostname of wanted) {
    if (held.has(hostname)) continue;
    try {
      repo.insertDomain(db, { hostname, serviceId, createdAt: now });
    } catch (e) {
      if (isUniqueViolation(e)) throw new Conflict(`Domain '${hostname}' is already used by another service.`);
      throw e;
    }
  }
}

/** Every custom domain and the service owning it (for the router's host map). */
export const customDomainOwners = (db: Db): { hostname: string; serviceId: string }[] => repo.domainOwners(db);

/**
 * On start: a service that lists a domain another service owns (duplicates that migration 0005
 * gave to the older service) loses it from its list, with a warning naming both; a listed name
 * nobody owns is claimed for it. Returns how many names were dropped.
 */
export function reconcileDomains(deps: Pick<Deps, "db" | "logger">): number {
  const rows = repo.unownedListedDomains(deps.db);
  if (!rows.length) return 0;
  let dropped = 0;
  deps.db.transaction((tx) => {
    const lose = new Map<string, Set<string>>();
    for (const r of rows) {
      if (r.owner === null) {
        repo.insertDomain(tx as never, { hostname: r.domain, serviceId: r.id, createdAt: r.created }, { ifFree: true });
        continue;
      }
      deps.logger.warn("custom domain dropped: another service owns it", { domain: r.domain, service: r.id, owner: r.owner });
      lose.set(r.id, (lose.get(r.id) ?? new Set()).add(r.domain));
      dropped++;
    }
    for (const [id, names] of lose) {
      const current = repo.findServiceById(tx as never, id)?.domains ?? [];
      repo.updateService(tx as never, id, { domains: current.filter((d) => !names.has(d)) });
    }
  });
  return dropped;
}
