// Config variable rules: who may write where, validation, upserts, secret sealing, bulk import.
import { Forbidden, NotFound, Unprocessable, invalidField } from "../../errors";
import { isoNow, type Deps } from "../../deps";
import { newId, isUuid } from "../../lib/ids";
import { parseDotenv } from "../../lib/dotenv";
import type { Actor } from "../auth/service";
import { orgAccess, type OrgAccess } from "../orgs/access";
import { applicationAccess } from "../applications/access";
import { envAccess } from "../envs/access";
import { projectAccess } from "../projects/access";
import { serviceAccess } from "../services/access";
import type { ConfigScope } from "../../db/schema";
import * as repo from "./repo";
import { findTeam } from "../teams/repo";
import { refreshServerRedactor } from "./redaction";
import { resolvedListing, SECRET_MASK } from "./resolve";
import { z } from "zod";
import { cachedJsonUntilWrite, jsonResponse, readTx } from "../../db/client";
import {
  MAX_NAME,
  MAX_VALUE_BYTES,
  MAX_VARS_PER_SCOPE,
  NAME_RE,
  type BulkConfigurationRequest,
  type BulkConfigurationResponse,
  type BulkError,
  type BulkItem,
  type ConfigurationSummary,
  type CreateConfigurationRequest,
  type UpdateConfigurationRequest,
  resolvedVar,
} from "./model";

/** Where a request points: one of the five scopes, or a reference-family application. */
export type TargetRef =
  | { scope: "organization"; org: string }
  | { scope: "team"; org: string; team: string }
  | { scope: "project"; org: string; project: string }
  | { scope: "environment"; org: string; project: string; env: string }
  | { scope: "service"; org: string; project: string; env: string; svc: string }
  | { scope: "application"; ref: string };

export type ConfigTarget = { key: repo.ScopeKey; access: OrgAccess };

export function resolveConfigScope(deps: Deps, actor: Actor | null, ref: TargetRef): ConfigTarget {
  const key = (scope: ConfigScope, scopeId: string): repo.ScopeKey => ({ scope, scopeId });
  switch (ref.scope) {
    case "organization": {
      const access = orgAccess(deps, actor, ref.org);
      return { key: key("organization", access.org.id), access };
    }
    case "team": {
      const access = orgAccess(deps, actor, ref.org);
      const team = findTeam(deps.db, access.org.id, ref.team);
      if (!team) throw new NotFound("Team");
      return { key: key("team", team.id), access };
    }
    case "project": {
      const access = projectAccess(deps, actor, ref.org, ref.project);
      return { key: key("project", access.project.id), access };
    }
    case "environment": {
      const access = envAccess(deps, actor, ref.org, ref.project, ref.env);
      return { key: key("environment", access.env.id), access };
    }
    case "service": {
      const access = serviceAccess(deps, actor, ref.org, ref.project, ref.env, ref.svc);
      return { key: key("service", access.service.id), access };
    }
    case "application": {
      const access = applicationAccess(deps, actor, ref.ref);
      return { key: key("service", access.service.id), access };
    }
  }
}

/** Organization- and team-wide variables reach every project: org admins only. */
function writableTarget(deps: Deps, actor: Actor | null, ref: TargetRef): ConfigTarget {
  const target = resolveConfigScope(deps, actor, ref);
  if ((target.key.scope === "organization" || target.key.scope === "team") && !target.access.isAdmin) {
    throw new Forbidden(`Only organization administrators may change ${target.key.scope}-wide config.`);
  }
  return target;
}

/** Why a name/value pair is refused, or null. The message always names the variable. */
export function varProblem(name: string, value: string): string | null {
  if (name.length > MAX_NAME) return `${JSON.stringify(name.slice(0, 32) + "…")} is longer than ${MAX_NAME} characters`;
  if (!NAME_RE.test(name)) return `${JSON.stringify(name.slice(0, 64))} is not a valid name: use letters, digits and underscores, not starting with a digit`;
  if (Buffer.byteLength(value, "utf8") > MAX_VALUE_BYTES) return `value of ${name} is larger than 64 KiB`;
  if (value.includes("\0")) return `value of ${name} contains a NUL character, which no process environment can hold`;
  return null;
}

const secretOffProblem = (name: string) => `${name} is a secret and cannot be turned into a plain variable; delete it and set it again instead`;

export function toSummary(row: repo.ConfigVarRow): ConfigurationSummary {
  return {
    id: row.id,
    name: row.name,
    value: row.secret ? SECRET_MASK : row.value,
    secret: row.secret,
    buildtime: row.buildtime,
    created: row.createdAt,
    updated: row.updatedAt,
  };
}

function findVar(deps: Deps, key: repo.ScopeKey, idOrName: string): repo.ConfigVarRow {
  const row = isUuid(idOrName) ? repo.findById(deps.db, key, idOrName) : repo.findByName(deps.db, key, idOrName);
  if (!row) throw new NotFound("Config variable");
  return row;
}

function assertRoom(deps: Deps, key: repo.ScopeKey, newNames: string[]): void {
  const have = repo.countAtScope(deps.db, key);
  if (have + newNames.length > MAX_VARS_PER_SCOPE) {
    const first = newNames[Math.max(0, MAX_VARS_PER_SCOPE - have)]!;
    throw invalidField(first, `cannot add ${first}: a ${key.scope} may hold at most ${MAX_VARS_PER_SCOPE} variables (it has ${have})`);
  }
}

export function listVars(deps: Deps, actor: Actor | null, ref: TargetRef): ConfigurationSummary[] {
  const { key } = resolveConfigScope(deps, actor, ref);
  return repo.listAtScope(deps.db, key).map(toSummary);
}

export function getVar(deps: Deps, actor: Actor | null, ref: TargetRef, idOrName: string): ConfigurationSummary {
  const { key } = resolveConfigScope(deps, actor, ref);
  return toSummary(findVar(deps, key, idOrName));
}

type Upsert = { name: string; value: string; secret?: boolean | null; buildtime?: boolean | null };

/** Insert or update one variable inside the caller's transaction; the row or the reason it was refused. */
function upsertOne(deps: Deps, db: Deps["db"], key: repo.ScopeKey, existing: repo.ConfigVarRow | undefined, input: Upsert, now: string) {
  if (existing?.secret && input.secret === false) return { problem: secretOffProblem(input.name) };
  const secret = input.secret ?? existing?.secret ?? false;
  const buildtime = input.buildtime ?? existing?.buildtime ?? false;
  const value = secret ? deps.secrets.seal(input.value) : input.value;
  if (existing) return { row: repo.updateVar(db, existing.id, { value, secret, buildtime, updatedAt: now }) };
  return { row: repo.insertVar(db, { id: newId(), scope: key.scope, scopeId: key.scopeId, name: input.name, value, secret, buildtime, createdAt: now, updatedAt: now }) };
}

function afterWrite(deps: Deps, key: repo.ScopeKey, action: string, names: string[]): void {
  refreshServerRedactor(deps);
  if (names.length) deps.logger.info(`config ${action}`, { scope: key.scope, scope_id: key.scopeId, names: names.slice(0, 50) });
}

export function setVar(deps: Deps, actor: Actor | null, ref: TargetRef, input: CreateConfigurationRequest): ConfigurationSummary {
  const { key } = writableTarget(deps, actor, ref);
  const problem = varProblem(input.name, input.value);
  if (problem) throw invalidField(input.name.length <= MAX_NAME && NAME_RE.test(input.name) ? "value" : "name", problem);
  const row = deps.db.transaction((tx) => {
    const existing = repo.findByName(tx as never, key, input.name);
    if (!existing) assertRoom(deps, key, [input.name]);
    const out = upsertOne(deps, tx as never, key, existing, input, isoNow(deps));
    if (out.problem) throw invalidField("secret", out.problem);
    return out.row!;
  });
  afterWrite(deps, key, "set", [row.name]);
  return toSummary(row);
}

export function patchVar(deps: Deps, actor: Actor | null, ref: TargetRef, idOrName: string, input: UpdateConfigurationRequest): ConfigurationSummary {
  const { key } = writableTarget(deps, actor, ref);
  const existing = findVar(deps, key, idOrName);
  const problem = varProblem(existing.name, input.value);
  if (problem) throw invalidField("value", problem);
  const out = upsertOne(deps, deps.db, key, existing, { name: existing.name, ...input }, isoNow(deps));
  if (out.problem) throw invalidField("secret", out.problem);
  afterWrite(deps, key, "set", [existing.name]);
  return toSummary(out.row!);
}

export function deleteVar(deps: Deps, actor: Actor | null, ref: TargetRef, idOrName: string): { ok: boolean } {
  const { key } = writableTarget(deps, actor, ref);
  const row = findVar(deps, key, idOrName);
  repo.deleteVar(deps.db, row.id);
  afterWrite(deps, key, "deleted", [row.name]);
  return { ok: true };
}

type Wanted = { value: string; line?: number; secret?: boolean; buildtime?: boolean };

/** An `errors` item: `name` (or `line N` without a readable one) and `error` for the published clients, `line` and `message` for ours. */
const bulkError = (line: number | undefined, name: string | undefined, message: string): BulkError => ({
  ...(line === undefined ? {} : { line }),
  name: name?.slice(0, 64) ?? `line ${line}`,
  message,
  error: message,
});

/**
 * Which existing names a bulk request replaces. `overwrite` decides when given. Without it, the
 * reference route keeps the hosted semantics the published CLI relies on (it sends only `raw`
 * and prints `skipped` as "Skipped (secret)"): existing names are replaced except secrets; the
 * array form (`[{name, value}]`, "bulk set") replaces everything; elsewhere nothing is replaced.
 */
function replaces(ref: TargetRef, input: BulkConfigurationRequest | BulkItem[]): (row: repo.ConfigVarRow) => boolean {
  if (Array.isArray(input)) return () => true;
  if (input.overwrite !== undefined) return () => input.overwrite === true;
  return ref.scope === "application" ? (row) => !row.secret : () => false;
}

/** The names and values a bulk request asks for (raw first, then variables or the array; later names win) and the lines refused on the way. */
function wantedOf(input: BulkConfigurationRequest | BulkItem[], errors: BulkError[]): Map<string, Wanted> {
  const wanted = new Map<string, Wanted>();
  if (Array.isArray(input)) {
    for (const item of input) wanted.set(item.name, { value: item.value, secret: item.secret, buildtime: item.buildtime });
    return wanted;
  }
  if (input.variables === undefined && (input.raw === undefined || input.raw === null)) {
    throw invalidField("variables", "give `variables` (an object), `raw` (.env text) or an array of {name, value}");
  }
  if (typeof input.raw === "string") {
    const parsed = parseDotenv(input.raw);
    errors.push(...parsed.errors.map((e) => bulkError(e.line, undefined, e.message)));
    for (const e of parsed.entries) wanted.set(e.name, { value: e.value, line: e.line });
  }
  for (const [name, value] of Object.entries(input.variables ?? {})) wanted.set(name, { value });
  return wanted;
}

/**
 * Bulk set from `variables` and/or `raw` .env text, or the array form. Bad lines and refused
 * names go to `errors`; the rest is applied in one transaction.
 */
export function bulkSet(deps: Deps, actor: Actor | null, ref: TargetRef, input: BulkConfigurationRequest | BulkItem[]): BulkConfigurationResponse {
  const { key } = writableTarget(deps, actor, ref);
  const errors: BulkError[] = [];
  const wanted = wantedOf(input, errors);
  for (const [name, { value, line }] of wanted) {
    const problem = varProblem(name, value);
    if (!problem) continue;
    errors.push(bulkError(line, name, problem));
    wanted.delete(name);
  }
  const replace = replaces(ref, input);
  const flags = Array.isArray(input) ? {} : { secret: input.secret, buildtime: input.buildtime };
  const result: BulkConfigurationResponse = { created: [], updated: [], skipped: [], errors };
  deps.db.transaction((tx) => {
    const db = tx as never as Deps["db"];
    const existing = new Map(repo.namesAtScope(db, key, [...wanted.keys()]).map((r) => [r.name, r]));
    assertRoom(deps, key, [...wanted.keys()].filter((n) => !existing.has(n)));
    const now = isoNow(deps);
    for (const [name, { value, line, secret, buildtime }] of wanted) {
      const row = existing.get(name);
      if (row && !replace(row)) {
        result.skipped.push(name);
        continue;
      }
      const out = upsertOne(deps, db, key, row, { name, value, secret: secret ?? flags.secret, buildtime: buildtime ?? flags.buildtime }, now);
      if (out.problem) errors.push(bulkError(line, name, out.problem));
      else (row ? result.updated : result.created).push(name);
    }
  });
  errors.sort((a, b) => (a.line ?? Infinity) - (b.line ?? Infinity));
  afterWrite(deps, key, "imported", [...result.created, ...result.updated]);
  return result;
}

// GET …/config/resolved: a pure function of the database, kept as checked JSON until the next
// write (cachedJsonUntilWrite); any config write, here or by another process, ends it. One per Deps.
const resolvedCaches = new WeakMap<Deps, (sqlite: Deps["sqlite"], serviceId: string) => string>();
const resolvedListSchema = z.array(resolvedVar);

/** The masked resolved config of a service, as a ready JSON response. */
export function resolvedVars(deps: Deps, actor: Actor | null, ref: TargetRef): Response {
  let cached = resolvedCaches.get(deps);
  if (!cached) resolvedCaches.set(deps, (cached = cachedJsonUntilWrite(resolvedListSchema, (id) => resolvedListing(deps, id))));
  const lookup = cached;
  return jsonResponse(
    readTx(deps.sqlite, () => {
      const { key } = resolveConfigScope(deps, actor, ref);
      if (key.scope !== "service") throw new Unprocessable("Resolved config exists for services only.");
      return lookup(deps.sqlite, key.scopeId);
    }),
  );
}
