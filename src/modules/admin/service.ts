// Server administration: users (create, deactivate, promote).
import { z } from "zod";
import { Conflict, NotFound, Unprocessable } from "../../errors";
import type { Deps } from "../../deps";
import { offsetOf, pageOf, type PageQuery } from "../../lib/pagination";
import * as users from "../auth/repo";
import { hashPassword, toUserResponse } from "../auth/service";
import type { patchUserRequest } from "./model";

export function listUsers(deps: Deps, q: PageQuery) {
  const rows = users.listUsers(deps.db, q.per_page, offsetOf(q));
  return pageOf(rows.map(toUserResponse), users.countUsers(deps.db), q);
}

export async function patchUser(deps: Deps, actorId: string, userId: string, patch: z.infer<typeof patchUserRequest>) {
  const user = users.findUserById(deps.db, userId);
  if (!user) throw new NotFound("User");
  if (userId === actorId && (patch.active === false || patch.admin === false)) {
    throw new Unprocessable("You cannot deactivate or demote yourself.", [{ path: userId, message: "is the caller" }]);
  }
  if (patch.email && patch.email !== user.email && users.findUserByLogin(deps.db, patch.email)) {
    throw new Conflict("A user with that email already exists.");
  }
  const passwordHash = patch.password ? await hashPassword(deps, patch.password) : undefined;
  const updated = deps.db.transaction((tx) => {
    const row = users.updateUser(tx as never, userId, {
      ...(patch.active !== undefined && { active: patch.active }),
      ...(patch.admin !== undefined && { isAdmin: patch.admin }),
      ...(patch.email !== undefined && { email: patch.email }),
      ...(passwordHash && { passwordHash }),
    });
    // a deactivated user or a new password ends every browser session of that user
    if (patch.active === false || passwordHash) users.deleteUserSessions(tx as never, userId);
    return row!;
  });
  return toUserResponse(updated);
}
