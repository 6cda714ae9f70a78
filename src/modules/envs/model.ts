// Environment shapes (SPEC §2, §3.7). A kubeconfig and a registry password are credentials: they
// are accepted, sealed and never returned — responses show the kubeconfig's server, context and
// fingerprint, and whether a registry password is set.
import { z } from "zod";
import { nameSchema, slugSchema, SLUG_RE } from "../../lib/slugs";
import { gitRefSchema } from "../../lib/git";

export const envTypes = ["production", "staging", "development", "preview"] as const;
export const targets = ["docker", "kubernetes"] as const;

export const envResponse = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  project_id: z.string(),
  project_slug: z.string(),
  organization_slug: z.string(),
  env_type: z.enum(envTypes),
  is_default: z.boolean(),
  protected: z.boolean(),
  auto_deploy_branch: z.string().nullable(),
  ephemeral: z.boolean(),
  target: z.enum(targets),
  /** A kubeconfig is stored (sealed; never returned). Only its server, context and fingerprint are shown. */
  kubeconfig_set: z.boolean(),
  kubeconfig_server: z.string().nullable(),
  kubeconfig_fingerprint: z.string().nullable(),
  context: z.string().nullable(),
  namespace: z.string().nullable(),
  ingress_class: z.string().nullable(),
  ingress_tls_secret: z.string().nullable(),
  registry_url: z.string().nullable(),
  registry_username: z.string().nullable(),
  registry_password_set: z.boolean(),
  service_count: z.number().int(),
  created: z.string().nullable(),
  updated: z.string().nullable(),
});
export type EnvResponse = z.infer<typeof envResponse>;

/** Kubeconfig YAML text (its own file references and credential plugins are refused by the service). */
export const kubeconfigSchema = z.string().min(1).max(256 * 1024, "must be at most 256 KiB");

const NO_CONTROL = /^[^\u0000-\u001f\u007f]*$/;
/** A DNS-1123 subdomain (ingress class and secret names). */
const dnsSubdomain = z
  .string()
  .max(253)
  .regex(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/, "must be a Kubernetes object name (lowercase letters, digits, dashes and dots)");
/** host[:port][/path] of a registry, without a scheme: registry.example.com, 127.0.0.1:5000, ghcr.io/acme */
export const registryUrlSchema = z
  .string()
  .max(255)
  .regex(/^[a-z0-9]([a-z0-9.-]*[a-z0-9])?(:[0-9]{1,5})?(\/[a-z0-9]+([._-][a-z0-9]+)*)*$/, "must be a registry host[:port][/path] without a scheme, such as registry.example.com or 127.0.0.1:5000");

export const namespaceSchema = z.string().regex(SLUG_RE, "must be a Kubernetes namespace name (lowercase letters, digits, dashes; max 63)");

const envFields = {
  env_type: z.enum(envTypes).optional(),
  protected: z.boolean().optional(),
  auto_deploy_branch: gitRefSchema.nullable().optional(),
  ephemeral: z.boolean().optional(),
  target: z.enum(targets).optional(),
  kubeconfig: kubeconfigSchema.nullable().optional(),
  /** kubeconfig context; null: its current-context */
  context: z.string().min(1).max(253).regex(NO_CONTROL, "must not contain control characters").nullable().optional(),
  namespace: namespaceSchema.nullable().optional(),
  ingress_class: dnsSubdomain.nullable().optional(),
  ingress_tls_secret: dnsSubdomain.nullable().optional(),
  registry_url: registryUrlSchema.nullable().optional(),
  registry_username: z.string().min(1).max(255).regex(/^[^\s:]+$/, "must not contain spaces or ':'").nullable().optional(),
  registry_password: z.string().min(1).max(4096).regex(NO_CONTROL, "must not contain control characters").nullable().optional(),
};

export const createEnvRequest = z.object({ name: nameSchema, slug: slugSchema.optional(), ...envFields });
export const patchEnvRequest = z.object({ name: nameSchema.optional(), slug: slugSchema.optional(), ...envFields });
export type CreateEnvInput = z.infer<typeof createEnvRequest>;
export type PatchEnvInput = z.infer<typeof patchEnvRequest>;

const seg = z.string().max(255);
export const projectParams = z.object({ org: seg, project: seg });
export const envParams = z.object({ org: seg, project: seg, env: seg });

export const envCheckResponse = z.object({
  ok: z.boolean(),
  target: z.enum(targets),
  checks: z.array(z.object({ name: z.string(), ok: z.boolean(), message: z.string() })),
});
export type EnvCheckResponse = z.infer<typeof envCheckResponse>;
