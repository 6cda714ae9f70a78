// Project shapes: ProjectSummary / ProjectDetail / CreateProjectRequest of the reference contract.
import { z } from "zod";
import { nameSchema, slugSchema } from "../../lib/slugs";
import { environments } from "../../db/schema";

const timestamp = z.string().nullable();

export const projectSummary = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  organization_id: z.string(),
  organization_slug: z.string(),
  team_id: z.string().nullable(),
  team_slug: z.string().nullable(),
  application_count: z.number().int(),
  created: timestamp,
});
export type ProjectSummary = z.infer<typeof projectSummary>;

export const projectDetail = projectSummary.extend({
  organization_name: z.string(),
  description: z.string(),
  previews_enabled: z.boolean(),
  environments: z.array(z.object({ id: z.string(), name: z.string(), slug: z.string(), env_type: z.enum(environments.envType.enumValues), is_default: z.boolean(), protected: z.boolean() })),
  updated: timestamp,
});
export type ProjectDetail = z.infer<typeof projectDetail>;

const description = z
  .string()
  .max(1000)
  .refine((s) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s), "must not contain control characters");
const teamRef = z.string().min(1).max(255);

/** Body of POST /projects/{org} and POST /orgs/{org}/projects. */
export const createProjectInOrgRequest = z.object({ name: nameSchema, slug: slugSchema.optional(), team: teamRef.optional(), description: description.optional() });
/** CreateProjectRequest; organization_id takes an organization id or slug. */
export const createProjectRequest = createProjectInOrgRequest.extend({ organization_id: z.string().min(1).max(255) });
export const patchProjectRequest = z.object({
  name: nameSchema.optional(),
  slug: slugSchema.optional(),
  team: teamRef.nullable().optional(),
  description: description.optional(),
  previews_enabled: z.boolean().optional(),
});
export type CreateProjectInput = z.infer<typeof createProjectInOrgRequest>;
export type PatchProjectInput = z.infer<typeof patchProjectRequest>;

const seg = z.string().max(255);
export const listProjectsQuery = z.object({ org: seg.optional() });
export const orgParams = z.object({ org: seg });
export const projectParams = z.object({ org: seg, project: seg });
