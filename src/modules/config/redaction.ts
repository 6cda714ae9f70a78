// Which values the redactors hide: secrets, and values of variables whose names look secret.
import type { Db } from "../../db/client";
import type { Deps } from "../../deps";
import type { Secrets } from "../../lib/crypto";
import { createRedactor, looksSecretName, redactableByName, type Redactor } from "../../lib/redact";
import { listAllVars } from "./repo";
import { resolveServiceConfig } from "./resolve";

/** Every secret value of every scope (decrypted) plus secret-looking names' values: the server log's set. */
export function serverRedactionValues(db: Db, secrets: Secrets): string[] {
  const out: string[] = [];
  for (const row of listAllVars(db)) {
    if (row.secret) {
      try {
        out.push(secrets.open(row.value));
      } catch {
        // a value that does not open cannot be leaked by us either
      }
    } else if (looksSecretName(row.name) && redactableByName(row.value)) out.push(row.value);
  }
  return out;
}

/** Call after any config write so the server log hides values set a moment ago. */
export function refreshServerRedactor(deps: Deps): void {
  deps.redactor.update(serverRedactionValues(deps.db, deps.secrets));
}

/**
 * The redactor for one service's build and deploy logs: its resolved secret values and the values
 * of resolved variables whose names look secret (`*_KEY`, `*_TOKEN`, `*_SECRET`, `*PASSWORD*`).
 */
export function serviceRedactor(deps: Deps, serviceId: string): Redactor {
  const values = resolveServiceConfig(deps, serviceId)
    .filter((v) => v.secret || (looksSecretName(v.name) && redactableByName(v.value)))
    .map((v) => v.value);
  const own = createRedactor(values);
  // the server-wide set as well: a build may print a secret of another scope (e.g. a shared token)
  return (text) => deps.redactor.redact(own(text));
}
