// Server-admin shapes: managing users.
import { z } from "zod";
import { emailSchema, passwordSchema, usernameSchema, userResponse } from "../auth/model";
import { paginated } from "../../lib/pagination";

export const createUserRequest = z.object({
  username: usernameSchema,
  email: emailSchema,
  password: passwordSchema,
  admin: z.boolean().optional(),
});

export const patchUserRequest = z.object({
  active: z.boolean().optional(),
  admin: z.boolean().optional(),
  email: emailSchema.optional(),
  password: passwordSchema.optional(),
});

export const userList = paginated(userResponse);
