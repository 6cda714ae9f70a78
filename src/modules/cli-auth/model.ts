// Shapes of the CLI browser login: the confirmation code, the CLI's loopback port, the key name.
import { z } from "zod";

export const CLI_CODE_RE = /^[A-Z0-9]{4}-[A-Z0-9]{4}$/;
const HOST_RE = /^[A-Za-z0-9](?:[A-Za-z0-9.-]{0,61}[A-Za-z0-9])?$/;

export const cliCode = z.string().regex(CLI_CODE_RE, "must look like XXXX-XXXX (uppercase letters and digits)");
export const cliPort = z.coerce
  .number({ message: "must be a port number" })
  .int("must be a whole number")
  .min(1024, "must be between 1024 and 65535")
  .max(65535, "must be between 1024 and 65535");

export const cliAuthorizeRequest = z.object({
  code: cliCode,
  port: cliPort,
  host: z.string().regex(HOST_RE, "must be a host name").optional(),
});
export type CliAuthorizeRequest = z.infer<typeof cliAuthorizeRequest>;

export const cliAuthorizeResponse = z.object({
  redirect_url: z.string(),
  key_id: z.string(),
  name: z.string(),
});

/** The query of GET /cli-auth: a valid code and port, else the page is an error page. */
export function isValidCliAuthQuery(search: URLSearchParams): boolean {
  return cliCode.safeParse(search.get("code") ?? "").success && /^\d{1,5}$/.test(search.get("port") ?? "") && cliPort.safeParse(search.get("port")).success;
}
