// Organization shapes of the reference contract.
import { z } from "zod";
import { nameSchema, slugSchema } from "../../lib/slugs";

export const orgSummary = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  member_count: z.number().int(),
  project_count: z.number().int(),
});

export const memberResponse = z.object({
  user_id: z.string(),
  username: z.string(),
  email: z.string().nullable(),
  admin: z.boolean(),
});

export const orgDetail = z.object({
  id: z.string(),
  name: z.string(),
  slug: z.string(),
  members: z.array(memberResponse),
  project_count: z.number().int(),
  application_count: z.number().int(),
});

export const createOrgRequest = z.object({ name: nameSchema, slug: slugSchema.optional() });
export const patchOrgRequest = z.object({ name: nameSchema.optional(), slug: slugSchema.optional() });
export const addMemberRequest = z.object({ username: z.string().min(1).max(255), admin: z.boolean().optional() });
export const toggleAdminResponse = z.object({ ok: z.boolean(), admin: z.boolean() });
export const orgParams = z.object({ org: z.string().max(255) });
export const memberParams = z.object({ org: z.string().max(255), user_id: z.string().max(64) });

export type OrgSummary = z.infer<typeof orgSummary>;
export type OrgDetail = z.infer<typeof orgDetail>;
export type Member = z.infer<typeof memberResponse>;
export type ToggleAdminResponse = z.infer<typeof toggleAdminResponse>;
