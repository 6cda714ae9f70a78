// Release shapes of the reference contract (ReleaseSummary, ReleaseDetail, ReleaseListResponse …).
import { z } from "zod";
import { paginated } from "../../lib/pagination";

const meta = z.record(z.string(), z.unknown());

export const releaseSummary = z.object({
  id: z.string(),
  version: z.number().int(),
  application_id: z.string(),
  platform: z.string(),
  built: z.boolean(),
  error: z.boolean(),
  created: z.string().nullable(),
  updated: z.string().nullable(),
});

export const releaseDetail = releaseSummary.extend({
  repository_name: z.string(),
  release_id: z.string().nullable(),
  image: meta,
  configuration: meta,
  image_changes: meta,
  configuration_changes: meta,
  error_detail: z.string().nullable(),
  dockerfile: z.string().nullable(),
  release_metadata: meta.nullable(),
  commit_sha: z.string().nullable(),
  health_check_path: z.string(),
  health_check_host: z.string().nullable(),
});

export const releaseListResponse = paginated(releaseSummary);

export const releaseLogResponse = z.object({
  status: z.string(),
  version: z.number().int(),
  log_text: z.string().nullable(),
  error: z.boolean(),
  error_detail: z.string().nullable(),
  build_step: meta.nullable(),
});

export const releaseCreateResponse = z.object({ ok: z.boolean(), release_id: z.string(), version: z.number().int() });
export const releaseDeployResponse = z.object({ ok: z.boolean(), deployment_id: z.string() });
/** POST …/services/{svc}/deploy: documented to return the release and deployment ids. */
export const serviceDeployResponse = releaseDeployResponse.extend({ release_id: z.string(), release_version: z.number().int() });

/** Body of POST …/services/{svc}/deploy: redeploy release N, or the latest release. */
export const serviceDeployRequest = z.object({ version: z.number().int().min(1).optional(), run_release_phase: z.boolean().optional() }).strict();

const seg = z.string().max(255);
export const idParams = z.object({ org: seg });
export const appParams = z.object({ org: seg, project: seg, app: seg });
export const serviceParams = z.object({ org: seg, project: seg, env: seg, svc: seg });
export const versionParams = serviceParams.extend({ version: z.coerce.number().int().min(1).max(2_147_483_647) });

export type ReleaseSummary = z.infer<typeof releaseSummary>;
export type ReleaseDetail = z.infer<typeof releaseDetail>;
export type ReleaseCreateResponse = z.infer<typeof releaseCreateResponse>;
