// Kubernetes names Ancla derives from slugs (pure): DNS-1123 labels and an environment's default namespace.
import { createHash } from "node:crypto";

/** A DNS-1123 label: at most 63 characters; longer names keep a prefix and a hash of the whole. */
export function dnsLabel(name: string): string {
  const clean = name.toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "") || "x";
  if (clean.length <= 63) return clean;
  const hash = createHash("sha256").update(clean).digest("hex").slice(0, 8);
  return `${clean.slice(0, 54).replace(/-+$/, "")}-${hash}`;
}

/**
 * `ancla-<org>-<project>-<env>`, shortened with a hash when longer than a namespace may be. Slugs
 * contain dashes, so two environments can get the same one (org `a`/project `b-c`, org `a-b`/project
 * `c`): `unique` (the environment's own key) then adds a short hash that tells them apart.
 */
export function defaultNamespace(org: string, project: string, env: string, unique?: string): string {
  const base = `ancla-${org}-${project}-${env}`;
  if (unique === undefined) return dnsLabel(base);
  const hash = createHash("sha256").update(unique).digest("hex").slice(0, 8);
  return `${dnsLabel(base).slice(0, 54).replace(/-+$/, "")}-${hash}`;
}
