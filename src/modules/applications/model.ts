// Reference-family Application requests (an Application is a Service in the default environment).
import { z } from "zod";
import { createServiceRequest } from "../services/model";

/** CreateApplicationRequest: project_id is the project's id; service fields may come along. */
export const createApplicationRequest = createServiceRequest.extend({ project_id: z.string().min(1).max(255) });
/** POST /applications/{org}/{project}: {name[, slug, platform, …]}. */
export const createInProjectRequest = createServiceRequest;

const seg = z.string().max(255);
export const idParams = z.object({ org: seg });
export const projectParams = z.object({ org: seg, project: seg });
export const appParams = z.object({ org: seg, project: seg, app: seg });
