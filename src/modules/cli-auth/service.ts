// CLI browser login: mint an API key for the signed-in user and hand it to the CLI's loopback
// listener. The redirect target is always http://127.0.0.1:<port>, never anything else.
import type { Deps } from "../../deps";
import { createApiKey } from "../keys/service";
import type { UserRow } from "../auth/repo";
import type { CliAuthorizeRequest } from "./model";

export const cliKeyName = (host?: string): string => (host ? `ancla CLI on ${host}` : "ancla CLI");

export function callbackUrl(port: number, params: Record<string, string>): string {
  return `http://127.0.0.1:${port}/callback?${new URLSearchParams(params).toString()}`;
}

export function authorizeCli(deps: Deps, user: UserRow, input: CliAuthorizeRequest) {
  const name = cliKeyName(input.host);
  const key = createApiKey(deps, user.id, { name, metadata: { created_by: "cli-login" } });
  deps.logger.info("cli login authorized", { user: user.username, key_id: key.key_id });
  return {
    redirect_url: callbackUrl(input.port, { api_key: key.key, code: input.code, username: user.username, email: user.email ?? "" }),
    key_id: key.key_id,
    name,
  };
}
