// The server log's redaction set, read straight from storage: the composition root needs it before
// any feature module exists, and the config-vars module refreshes it after each write.
import type { Db } from "./client";
import { configVars, projectIntegrations, serviceGitCredentials } from "./schema";
import { isNotNull, or } from "drizzle-orm";
import { isSealed, type Secrets } from "../lib/crypto";
import { parseKubeconfig } from "../lib/kubeconfig";
import { environments } from "./schema";
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
  out.push(...clusterCredentials(db, secrets));
  return out;
}

/** Kubernetes environments' registry passwords and the credentials inside their kubeconfigs (token, password, client key). */
function clusterCredentials(db: Db, secrets: Secrets): string[] {
  const out: string[] = [];
  const rows = db.select({ kubeconfig: environments.kubeconfig, context: environments.kubeContext, password: environments.registryPassword }).from(environments).where(or(isNotNull(environments.kubeconfig), isNotNull(environments.registryPassword))).all();
  for (const r of rows) {
    try {
      if (r.password) out.push(secrets.open(r.password));
      if (r.kubeconfig) {
        const c = parseKubeconfig(isSealed(r.kubeconfig) ? secrets.open(r.kubeconfig) : r.kubeconfig, r.context);
        for (const v of [c.token, c.password, c.key]) if (v && v.length >= 8) out.push(v);
      }
    } catch {
      // a value that does not open or parse is not used by us either
    }
  }
  return out;
}
