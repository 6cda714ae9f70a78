// Slugs: DNS-label safe so they can name Docker containers, networks and Kubernetes objects.
import { z } from "zod";

export const SLUG_RE = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
// Names of the dashboard's and server's own pages. "api" stays allowed: it is the most common
// service name (SPEC's own example is /applications/acme/web/api).
const RESERVED = new Set(["admin", "new", "settings", "www", "static", "assets", "cli-auth", "login", "logout"]);
const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

export const slugSchema = z
  .string()
  .regex(SLUG_RE, "must be lowercase letters, digits and dashes (1-63), starting and ending with a letter or digit")
  .refine((s) => !UUID_SHAPE.test(s), "must not look like a UUID")
  .refine((s) => !RESERVED.has(s), "is reserved");

/** Display names: printable, no control characters. */
export const nameSchema = z
  .string()
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters")
  .refine((s) => !/[\u0000-\u001f\u007f]/.test(s), "must not contain control characters");

/** Derive a slug from a display name; throws nothing, may return "" when nothing usable remains. */
export function slugify(name: string): string {
  const base = name
    .normalize("NFKD")
    .replace(/[\u0300-\u036f]/g, "")
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 63)
    .replace(/-+$/g, "");
  return base;
}
