// The server log's redaction set, read straight from storage: the composition root needs it before
// any feature module exists, and the config-vars module refreshes it after each write.
import type { Db } from "./client";
import { configVars, projectIntegrations, serviceGitCredentials } from "./schema";
import { isNotNull } from "drizzle-orm";
import type { Secrets } from "../lib/crypto";
import { looksSecretName, redactableByName } from "../lib/redact";

/** Every secret value of every scope (decrypted) plus secret-looking names' values. */
export function serverRedactionValues(db: Db, secrets: Secrets): string[] {
  const out: string[] = [];
  for (const row of db.select({ name: configVars.name, value: configVars.value, secret: configVars.secret }).from(configVars).all()) {
    if (row.secret) {
      try {
        out.push(secrets.open(row.value));
      } catch {
        // a value that does not open cannot be leaked by us either
      }
    } else if (looksSecretName(row.name) && redactableByName(row.value)) out.push(row.value);
  }
  // integration secrets: projects' webhook secrets and services' HTTPS git tokens (sealed)
  const sealed = [
    ...db.select({ v: projectIntegrations.webhookSecret }).from(projectIntegrations).where(isNotNull(projectIntegrations.webhookSecret)).all(),
    ...db.select({ v: serviceGitCredentials.httpsToken }).from(serviceGitCredentials).where(isNotNull(serviceGitCredentials.httpsToken)).all(),
  ];
  for (const { v } of sealed) {
    try {
      out.push(secrets.open(v!));
    } catch {
      // as above
    }
  }
  return out;
}
