// Team shapes (no reference schema exists; named like the organization shapes).
import { z } from "zod";
import { nameSchema, slugSchema } from "../../lib/slugs";

export const teamResponse = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  organization_id: z.string(),
  organization_slug: z.string(),
  project_count: z.number().int(),
  created: z.string().nullable(),
});
export type TeamResponse = z.infer<typeof teamResponse>;

export const createTeamRequest = z.object({ name: nameSchema, slug: slugSchema.optional() });
export const orgParams = z.object({ org: z.string().max(255) });
