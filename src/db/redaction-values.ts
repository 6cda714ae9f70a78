// The server log's redaction set, read straight from storage: the composition root needs it before
// any feature module exists (and before `ancla serve` listens, so in plain SQL: drizzle is loaded
// after listen), and the config-vars module refreshes it after each write.
import type { Database } from "bun:sqlite";
import { isSealed, type Secrets } from "../lib/crypto";
import { parseKubeconfig } from "../lib/kubeconfig";
import { looksSecretName, redactableByName } from "../lib/redact";

/** Every secret value of every scope (decrypted) plus secret-looking names' values. */
export function serverRedactionValues(sqlite: Database, secrets: Secrets): string[] {
  const out: string[] = [];
  for (const row of sqlite.query("select name, value, secret from config_vars").all() as { name: string; value: string; secret: number }[]) {
    if (row.secret) {
      try {
        out.push(secrets.open(row.value));
      } catch {
        // a value that does not open cannot be leaked by us either
      }
    } else if (looksSecretName(row.name) && redactableByName(row.value)) out.push(row.value);
  }
  // integration secrets: projects' webhook secrets and services' HTTPS git tokens (sealed)
  const sealed = sqlite
    .query("select webhook_secret as v from project_integrations where webhook_secret is not null union all select https_token as v from service_git_credentials where https_token is not null")
    .all() as { v: string }[];
  for (const { v } of sealed) {
    try {
      out.push(secrets.open(v));
    } catch {
      // as above
    }
  }
  out.push(...clusterCredentials(sqlite, secrets));
  return out;
}

/** Kubernetes environments' registry passwords and the credentials inside their kubeconfigs (token, password, client key). */
function clusterCredentials(sqlite: Database, secrets: Secrets): string[] {
  const out: string[] = [];
  const rows = sqlite
    .query("select kubeconfig, kube_context as context, registry_password as password from environments where kubeconfig is not null or registry_password is not null")
    .all() as { kubeconfig: string | null; context: string | null; password: string | null }[];
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
