// Route: POST /api/v1/auth/password — change your own password. The current one must be given
// (a left-open browser is not enough); every other session of the user ends, this one stays.
import { Elysia } from "elysia";
import { z } from "zod";
import type { Deps } from "../../deps";
import { invalidField } from "../../errors";
import { sha256Hex } from "../../lib/ids";
import { withActor } from "./context";
import { okResponse, passwordSchema } from "./model";
import { deleteOtherSessions, updateUser } from "./repo";
import { hashPassword, readCookie, requireUser, SESSION_COOKIE, type Actor } from "./service";

export const changePasswordRequest = z.object({ current_password: z.string().min(1).max(1024), new_password: passwordSchema });

export async function changeOwnPassword(deps: Deps, actor: Actor, input: z.infer<typeof changePasswordRequest>, cookie: string | null): Promise<{ ok: boolean }> {
  if (!(await deps.passwords.verify(input.current_password, actor.user.passwordHash))) throw invalidField("current_password", "is not your current password");
  if (input.current_password === input.new_password) throw invalidField("new_password", "must differ from the current password");
  const passwordHash = await hashPassword(deps, input.new_password);
  const token = actor.via === "session" ? readCookie(cookie, SESSION_COOKIE) : undefined;
  const keep = token ? sha256Hex(token) : "";
  deps.db.transaction((tx) => {
    updateUser(tx as never, actor.user.id, { passwordHash });
    deleteOtherSessions(tx as never, actor.user.id, keep);
  });
  return { ok: true };
}

export const passwordRoutes = (deps: Deps) =>
  new Elysia({ prefix: "/api/v1/auth", detail: { tags: ["auth"] } })
    .use(withActor(deps))
    .post("/password", ({ actor, body, request }) => changeOwnPassword(deps, requireUser(actor), body, request.headers.get("cookie")), {
      body: changePasswordRequest,
      response: { 200: okResponse },
      detail: { summary: "Change your own password (ends your other sessions)" },
    });
