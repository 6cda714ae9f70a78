// Environment shapes (SPEC §2). An inline kubeconfig holds cluster credentials, so responses
// only say whether one is set, or echo the path when the reference is a file path.
import { z } from "zod";
import { parse as parseYaml } from "yaml";
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
  kubeconfig_set: z.boolean(),
  kubeconfig_path: z.string().nullable(),
  namespace: z.string().nullable(),
  service_count: z.number().int(),
  created: z.string().nullable(),
  updated: z.string().nullable(),
});
export type EnvResponse = z.infer<typeof envResponse>;

/** A kubeconfig given by path (on the server) rather than inline YAML. */
export const isKubeconfigPath = (s: string) => !s.includes("\n") && (s.startsWith("/") || s.startsWith("~/"));

export const kubeconfigSchema = z
  .string()
  .min(1)
  .max(256 * 1024, "must be at most 256 KiB")
  .superRefine((s, ctx) => {
    if (isKubeconfigPath(s)) {
      if (/[\u0000-\u001f\u007f]/.test(s) || s.split("/").includes("..")) ctx.addIssue({ code: "custom", message: "must be a clean absolute path" });
      return;
    }
    let doc: unknown;
    try {
      doc = parseYaml(s);
    } catch {
      doc = null;
    }
    const clusters = doc && typeof doc === "object" ? (doc as { clusters?: unknown }).clusters : undefined;
    if (!Array.isArray(clusters)) ctx.addIssue({ code: "custom", message: "must be a kubeconfig file path or kubeconfig YAML with clusters" });
  });

export const namespaceSchema = z.string().regex(SLUG_RE, "must be a Kubernetes namespace name (lowercase letters, digits, dashes; max 63)");

const envFields = {
  env_type: z.enum(envTypes).optional(),
  protected: z.boolean().optional(),
  auto_deploy_branch: gitRefSchema.nullable().optional(),
  ephemeral: z.boolean().optional(),
  target: z.enum(targets).optional(),
  kubeconfig: kubeconfigSchema.nullable().optional(),
  namespace: namespaceSchema.nullable().optional(),
};

export const createEnvRequest = z.object({ name: nameSchema, slug: slugSchema.optional(), ...envFields });
export const patchEnvRequest = z.object({ name: nameSchema.optional(), slug: slugSchema.optional(), ...envFields });
export type CreateEnvInput = z.infer<typeof createEnvRequest>;
export type PatchEnvInput = z.infer<typeof patchEnvRequest>;

const seg = z.string().max(255);
export const projectParams = z.object({ org: seg, project: seg });
export const envParams = z.object({ org: seg, project: seg, env: seg });
