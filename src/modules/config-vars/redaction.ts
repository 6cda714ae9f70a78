// Which values the redactors hide: secrets, and values of variables whose names look secret.
import type { Deps } from "../../deps";
import { createRedactor, looksSecretName, redactableByName, type Redactor } from "../../lib/redact";
import { serverRedactionValues } from "../../db/redaction-values";
import { resolveServiceConfig } from "./resolve";

/** Call after any config write so the server log hides values set a moment ago. */
export function refreshServerRedactor(deps: Deps): void {
  deps.redactor.update(serverRedactionValues(deps.sqlite, deps.secrets));
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
