// Shapes of the integrations routes: WebhookResponse and SigningCertResponse of the reference,
// and Ancla's webhook settings, deliveries, deploy keys and preview settings.
import { z } from "zod";
import { deliveryStatuses } from "../../db/schema";

export const webhookResponse = z.object({ ok: z.boolean(), hook_id: z.string() });
export const signingCertResponse = z.object({ certificate: z.string().nullable() });
export const dockerTokenResponse = z.object({ token: z.string(), access_token: z.string(), expires_in: z.number().int(), issued_at: z.string() });

export const deliveryView = z.object({
  id: z.string(),
  delivery_id: z.string(),
  event: z.string(),
  action: z.string().nullable(),
  repository: z.string().nullable(),
  ref: z.string().nullable(),
  commit_sha: z.string().nullable(),
  status: z.enum(deliveryStatuses),
  message: z.string(),
  pipeline_ids: z.array(z.string()),
  redelivery_of: z.string().nullable(),
  created: z.string(),
});
export type DeliveryView = z.infer<typeof deliveryView>;
export const deliveryList = z.object({ items: z.array(deliveryView) });

export const webhookSettings = z.object({
  url: z.string(),
  content_type: z.literal("application/json"),
  events: z.array(z.string()),
  project_secret_set: z.boolean(),
  server_secret_set: z.boolean(),
  /** only in the answer that set it: shown once, never again */
  secret: z.string().optional(),
});
export type WebhookSettings = z.infer<typeof webhookSettings>;

export const setSecretRequest = z.object({
  secret: z
    .string()
    .min(16, "must be at least 16 characters")
    .max(255)
    .regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces")
    .optional(),
});

export const deliveriesQuery = z.object({ limit: z.coerce.number().int().min(1).max(200).default(50) });
export const redeliverResponse = z.object({ ok: z.boolean(), delivery: deliveryView });

const seg = z.string().min(1).max(255);
export const projectParams = z.object({ org: seg, project: seg });
export const deliveryParams = projectParams.extend({ id: seg });

export const hostKeyView = z.object({ host: z.string(), type: z.string(), fingerprint: z.string() });
export const deployKeyView = z.object({
  public_key: z.string().nullable(),
  fingerprint: z.string().nullable(),
  known_hosts: z.array(hostKeyView),
  known_hosts_pinned_at: z.string().nullable(),
  https_token_set: z.boolean(),
  created: z.string().nullable(),
});
export const gitTokenRequest = z.object({ token: z.string().min(1).max(4096).regex(/^[\x21-\x7e]+$/, "must be printable ASCII without spaces") });
export const serviceParams = z.object({ org: seg, project: seg, env: seg, svc: seg });

export const previewView = z.object({ number: z.number().int(), env: z.string(), status: z.string(), error: z.string().nullable(), head_sha: z.string().nullable(), urls: z.array(z.string()), created: z.string(), last_activity: z.string() });
export const previewsResponse = z.object({ enabled: z.boolean(), source_env: z.string().nullable(), ttl_hours: z.number().int(), items: z.array(previewView) });
export const previewSettingsRequest = z
  .object({ enabled: z.boolean().optional(), source_env: z.string().min(1).max(63).nullable().optional(), ttl_hours: z.number().int().min(1).max(24 * 90).optional() })
  .strict();
