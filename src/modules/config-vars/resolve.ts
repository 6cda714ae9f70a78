// Config resolution for one service: organization < team (when the project has one) < project <
// environment < service; the most specific scope wins. Used by builds, releases and `resolved`.
import type { Deps } from "../../deps";
import type { ConfigScope } from "../../db/schema";
import { NotFound } from "../../errors";
import { findServiceChainIds, listChainVars, type ChainVarRow, type ScopeKey } from "./repo";

export type ResolvedVar = {
  name: string;
  /** Decrypted plaintext — never put this in a response or a log. */
  value: string;
  secret: boolean;
  buildtime: boolean;
  scope: ConfigScope;
  scopeId: string;
};

/** What the `resolved` route shows: secret values masked. */
export type ResolvedListing = { name: string; value: string; secret: boolean; buildtime: boolean; scope: ConfigScope; scope_id: string };

export const SECRET_MASK = "**secret**";
const PRECEDENCE: Record<ConfigScope, number> = { organization: 0, team: 1, project: 2, environment: 3, service: 4 };

/** The scope chain of a service, least specific first. */
export function serviceScopeChain(deps: Deps, serviceId: string): ScopeKey[] {
  const ids = findServiceChainIds(deps.db, serviceId);
  if (!ids) throw new NotFound("Service");
  const chain: ScopeKey[] = [{ scope: "organization", scopeId: ids.orgId }];
  if (ids.teamId) chain.push({ scope: "team", scopeId: ids.teamId });
  chain.push({ scope: "project", scopeId: ids.projectId }, { scope: "environment", scopeId: ids.envId }, { scope: "service", scopeId: ids.serviceId });
  return chain;
}

/** The winning row per name, still sealed; sorted by name. */
export function resolveServiceRows(deps: Deps, serviceId: string): ChainVarRow[] {
  const rows = listChainVars(deps.db, serviceScopeChain(deps, serviceId));
  const winners = new Map<string, ChainVarRow>();
  for (const row of rows) {
    const held = winners.get(row.name);
    if (!held || PRECEDENCE[row.scope] > PRECEDENCE[held.scope]) winners.set(row.name, row);
  }
  return [...winners.values()].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export function resolveServiceConfig(deps: Deps, serviceId: string): ResolvedVar[] {
  return resolveServiceRows(deps, serviceId).map((r) => ({
    name: r.name,
    value: r.secret ? deps.secrets.open(r.value) : r.value,
    secret: r.secret,
    buildtime: r.buildtime,
    scope: r.scope,
    scopeId: r.scopeId,
  }));
}

export function maskResolved(vars: Pick<ResolvedVar, "name" | "value" | "secret" | "buildtime" | "scope" | "scopeId">[]): ResolvedListing[] {
  return vars.map((v) => ({ name: v.name, value: v.secret ? SECRET_MASK : v.value, secret: v.secret, buildtime: v.buildtime, scope: v.scope, scope_id: v.scopeId }));
}

/** The masked listing straight from the rows, without decrypting anything. */
export const resolvedListing = (deps: Deps, serviceId: string): ResolvedListing[] => maskResolved(resolveServiceRows(deps, serviceId));
