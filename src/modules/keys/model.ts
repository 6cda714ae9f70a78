// API key shapes of the reference contract (mounted at /api/keys).
import { z } from "zod";
import { nameSchema } from "../../lib/slugs";
import { scopesSchema } from "../auth/key-scopes";

export const createKeyRequest = z.object({
  name: nameSchema,
  scopes: scopesSchema.optional(),
  prefix: z.string().max(32).nullable().optional(),
  expires_at: z.iso.datetime({ offset: true }).nullable().optional(),
  metadata: z.record(z.string().max(64), z.string().max(1024)).optional(),
});
export type CreateKeyRequest = z.infer<typeof createKeyRequest>;

export const createKeyResponse = z.object({
  key_id: z.string(),
  key: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  created_at: z.string().nullable(),
  expires_at: z.string().nullable(),
});

export const keyInfo = z.object({
  key_id: z.string(),
  name: z.string(),
  scopes: z.array(z.string()),
  is_active: z.boolean(),
  created_at: z.string().nullable(),
  expires_at: z.string().nullable(),
  last_used_at: z.string().nullable(),
  metadata: z.record(z.string(), z.unknown()),
});

export type KeyInfo = z.infer<typeof keyInfo>;

export const listKeysQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(50),
  offset: z.coerce.number().int().min(0).default(0),
});

export const listKeysResponse = z.object({
  items: z.array(keyInfo),
  total: z.number().int(),
  limit: z.number().int(),
  offset: z.number().int(),
});
