// The API's shapes as the server declares them (the zod models in src/modules/*/model.ts), for the
// dashboard's views: type-only imports, erased from the bundle, so a server change that breaks a
// view fails `tsc` instead of a page. Views take these rather than writing their own copies.
export type { UserResponse as User, SessionResponse as Session } from "../src/modules/auth/model";
export type { OrgSummary, OrgDetail, Member } from "../src/modules/orgs/model";
export type { TeamResponse as Team, TeamDetail, TeamMember } from "../src/modules/teams/model";
export type { ProjectSummary, ProjectDetail } from "../src/modules/projects/model";
export type { EnvResponse } from "../src/modules/envs/model";
export type { ApplicationSummary, ServiceDetail, ReplicaView } from "../src/modules/services/model";
export type { KeyInfo } from "../src/modules/keys/model";
