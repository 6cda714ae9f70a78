// Routes: /api/v1/auth/login|logout|session.
import { Elysia } from "elysia";
import type { Deps } from "../../deps";
import { optionalActor } from "./context";
import { loginRequest, okResponse, sessionResponse } from "./model";
import * as svc from "./service";

export const authRoutes = (deps: Deps) => {
  const limiter = new svc.LoginLimiter();
  const secure = deps.config.publicUrl?.startsWith("https://") ?? false;
  return new Elysia({ prefix: "/api/v1/auth" })
    .post(
      "/login",
      async ({ body, request, server, set }) => {
        const ip = server?.requestIP(request)?.address ?? "local";
        const { token, user, maxAgeSeconds } = await svc.login(deps, limiter, { ...body, ip });
        set.headers["set-cookie"] = svc.sessionCookie(token, maxAgeSeconds, secure);
        set.status = 201;
        return { authenticated: true, user: svc.toUserResponse(user) };
      },
      { body: loginRequest, response: { 201: sessionResponse }, detail: { summary: "Log in", tags: ["auth"] } },
    )
    .use(optionalActor(deps))
    .post(
      "/logout",
      ({ request, set }) => {
        svc.logout(deps, svc.readCookie(request.headers.get("cookie"), svc.SESSION_COOKIE));
        set.headers["set-cookie"] = svc.clearedSessionCookie;
        set.status = 201;
        return { ok: true };
      },
      { response: { 201: okResponse }, detail: { summary: "Log out", tags: ["auth"] } },
    )
    .get(
      "/session",
      ({ actor }) => (actor ? { authenticated: true, user: svc.toUserResponse(actor.user) } : { authenticated: false, user: null }),
      { response: { 200: sessionResponse }, detail: { summary: "Current session", tags: ["auth"] } },
    );
};
