// Kubeconfigs were once stored as plain text: on start, seal any that still are (under the
// verified master key) and give kubernetes environments without a namespace their default one,
// `ancla-<org>-<project>-<env>`. Idempotent; runs in one transaction.
import type { Database } from "bun:sqlite";
import { isSealed, type Secrets } from "../lib/crypto";
import { defaultNamespace } from "../lib/kube-names";
import { kubeconfigFingerprint, parseKubeconfig } from "../lib/kubeconfig";

export function sealPlaintextKubeconfigs(sqlite: Database, secrets: Secrets): number {
  const rows = sqlite
    .query(
      `select e.id, e.kubeconfig, e.kube_context as context, e.namespace, e.target, e.slug as env, p.slug as project, o.slug as org
         from environments e join projects p on p.id = e.project_id join organizations o on o.id = p.org_id
        where (e.kubeconfig is not null and e.kubeconfig not like 'enc:v1:%') or (e.target = 'kubernetes' and e.namespace is null)`,
    )
    .all() as { id: string; kubeconfig: string | null; context: string | null; namespace: string | null; target: string; env: string; project: string; org: string }[];
  if (!rows.length) return 0;
  const update = sqlite.query("update environments set kubeconfig = ?, kubeconfig_server = coalesce(kubeconfig_server, ?), kubeconfig_fingerprint = coalesce(kubeconfig_fingerprint, ?), namespace = ? where id = ?");
  sqlite.transaction(() => {
    for (const r of rows) {
      let sealed = r.kubeconfig;
      let server: string | null = null;
      let fingerprint: string | null = null;
      if (r.kubeconfig !== null && !isSealed(r.kubeconfig)) {
        fingerprint = kubeconfigFingerprint(r.kubeconfig);
        try {
          server = parseKubeconfig(r.kubeconfig, r.context).server;
        } catch {
          // kept (sealed) as it was: a deploy says what is wrong with it
        }
        sealed = secrets.seal(r.kubeconfig);
      }
      const namespace = r.namespace ?? (r.target === "kubernetes" ? defaultNamespace(r.org, r.project, r.env) : null);
      update.run(sealed, server, fingerprint, namespace, r.id);
    }
  })();
  return rows.length;
}
