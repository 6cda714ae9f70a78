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
  member_count: z.number().int(),
  created: z.string().nullable(),
});
export type TeamResponse = z.infer<typeof teamResponse>;

export const createTeamRequest = z.object({ name: nameSchema, slug: slugSchema.optional() });
export const orgParams = z.object({ org: z.string().max(255) });
export const teamParams = z.object({ org: z.string().max(255), team: z.string().max(255) });
export const teamMemberParams = z.object({ org: z.string().max(255), team: z.string().max(255), user_id: z.string().max(255) });

export const teamMember = z.object({ user_id: z.string(), username: z.string(), email: z.string(), added: z.string() });
export type TeamMember = z.infer<typeof teamMember>;
/** A team with its members (GET …/teams/{team}, and what adding or removing a member answers). */
export const teamDetail = teamResponse.extend({ members: z.array(teamMember) });
export type TeamDetail = z.infer<typeof teamDetail>;
/** By username, email or user id; the user must be a member of the team's organization. */
export const addTeamMemberRequest = z.object({ username: z.string().min(1).max(255) });
