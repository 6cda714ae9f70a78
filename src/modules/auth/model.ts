// Identity shapes of the reference contract (UserResponse, SessionResponse, LoginRequest).
import { z } from "zod";

export const userResponse = z.object({
  id: z.string(),
  username: z.string(),
  email: z.string().nullable(),
  admin: z.boolean(),
  active: z.boolean(),
  registered_at: z.string().nullable(),
  last_login_at: z.string().nullable(),
});
export type UserResponse = z.infer<typeof userResponse>;

export const sessionResponse = z.object({ authenticated: z.boolean(), user: userResponse.nullable() });
export type SessionResponse = z.infer<typeof sessionResponse>;

export const loginRequest = z.object({
  email: z.string().min(1, "is required").max(255),
  password: z.string().min(1, "is required").max(1024),
});

export const usernameSchema = z
  .string()
  .regex(/^[a-z0-9](?:[a-z0-9._-]{0,38}[a-z0-9])?$/, "must be 1-40 lowercase letters, digits, dots, dashes or underscores");
export const emailSchema = z.string().max(255).regex(/^[^\s@\u0000-\u001f]+@[^\s@\u0000-\u001f]+$/, "must be an email address");
export const passwordSchema = z.string().min(8, "must be at least 8 characters").max(1024);

export const okResponse = z.object({ ok: z.boolean() });
