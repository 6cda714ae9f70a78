// Certificate and domain shapes of the API. Certificates and keys themselves are never part of any.
import { z } from "zod";

export const certificateView = z.object({
  /** pending: not issued yet (requested on a deploy or the first request); failed: see error, retried at next_attempt_at */
  status: z.enum(["pending", "issued", "failed"]),
  issued_at: z.string().nullable(),
  expires_at: z.string().nullable(),
  /** the ACME CA's or the domain check's message for the last failed attempt */
  error: z.string().nullable(),
  last_attempt_at: z.string().nullable(),
  next_attempt_at: z.string().nullable(),
});

export const domainView = z.object({
  hostname: z.string(),
  kind: z.enum(["generated", "custom"]),
  url: z.string(),
  /** null when the server has no --https or the name gets no certificate (*.localhost) */
  certificate: certificateView.nullable(),
});
export type DomainView = z.infer<typeof domainView>;

export const domainsResponse = z.object({
  https: z.boolean(),
  https_redirect: z.boolean(),
  hsts: z.boolean(),
  domains: z.array(domainView),
});
