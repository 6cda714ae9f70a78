// Field validators for values that later reach a command line, a container spec or a router
// table (git URLs, image references, hostnames, refs, paths): reject anything dangerous here.
import { z } from "zod";

const CONTROL = /[\u0000-\u001f\u007f]/;
const noControl = (s: string) => !CONTROL.test(s);

// DNS hostname: labels of 1-63 letters, digits and inner dashes; at least two labels; the last
// label not all digits (so an IP address is not taken for a hostname).
const LABEL = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;
export function isHostname(host: string, minLabels = 2): boolean {
  if (host.length > 253) return false;
  const labels = host.split(".");
  return labels.length >= minLabels && labels.every((l) => LABEL.test(l)) && !/^\d+$/.test(labels[labels.length - 1]!);
}

/** Custom domain of a service: lowercased, a trailing dot dropped. */
export const domainSchema = z
  .string()
  .max(253)
  .transform((s) => s.trim().toLowerCase().replace(/\.$/, ""))
  .refine((s) => isHostname(s), "must be a hostname like app.example.com");

export const hostHeaderSchema = z
  .string()
  .max(253)
  .refine((s) => isHostname(s.toLowerCase(), 1), "must be a hostname");

// Docker reference grammar (distribution/reference): [domain[:port]/]path[:tag][@digest].
const DOMAIN = String.raw`(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]+)?/)`;
const COMPONENT = String.raw`[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*`;
const IMAGE_RE = new RegExp(String.raw`^${DOMAIN}?${COMPONENT}(?:/${COMPONENT})*(?::[\w][\w.-]{0,127})?(?:@[a-z0-9]+(?:[.+_-][a-z0-9]+)*:[a-fA-F0-9]{32,})?$`);
export const imageRefSchema = z.string().max(512).regex(IMAGE_RE, "must be a Docker image reference like registry/name:tag");

// Git remote URLs that `git clone` gets as one argument: no leading dash (option injection), no
// whitespace or control characters, only plain transports (never ext:: or fd::), no embedded
// password (it would be echoed back in responses).
const GIT_SCHEMES = new Set(["https:", "http:", "ssh:", "git:", "file:"]);
const SCP_LIKE = /^[A-Za-z0-9._-]+@[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?:[^\s:][^\s]*$/;
export function gitUrlProblem(url: string): string | null {
  if (url.startsWith("-")) return "must not start with '-'";
  if (/[\s\u0000-\u001f\u007f]/.test(url)) return "must not contain whitespace or control characters";
  if (SCP_LIKE.test(url) && !url.includes("://")) return null;
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return "must be an https, http, ssh, git or file URL, or user@host:path";
  }
  if (!GIT_SCHEMES.has(parsed.protocol)) return "must use https, http, ssh, git or file";
  if (parsed.protocol !== "file:" && !parsed.hostname) return "must name a host";
  if (parsed.hostname.startsWith("-")) return "must not have a host starting with '-'";
  if (parsed.password) return "must not embed a password";
  return null;
}
export const gitUrlSchema = z.string().min(1).max(2048).superRefine((s, ctx) => {
  const problem = gitUrlProblem(s);
  if (problem) ctx.addIssue({ code: "custom", message: problem });
});

/** `owner/repo` on GitHub; a github.com URL is accepted and reduced to that form. */
export const githubRepositorySchema = z
  .string()
  .max(255)
  .transform((s) => s.trim().replace(/^https:\/\/github\.com\//, "").replace(/\.git$/, "").replace(/\/$/, ""))
  .refine((s) => /^[A-Za-z0-9](?:[A-Za-z0-9-]{0,38})\/[A-Za-z0-9_.][A-Za-z0-9_.-]{0,99}$/.test(s), "must be owner/repository");

export { gitRefSchema } from "../../lib/git";

/** A path inside the build context: relative, no '..' segments, no control characters. */
export const relativePathSchema = z
  .string()
  .min(1)
  .max(255)
  .refine(noControl, "must not contain control characters")
  .refine((s) => !s.startsWith("/") && !s.startsWith("-") && !s.split(/[\\/]/).includes(".."), "must be a relative path inside the repository without '..'")
  .refine((s) => /^[A-Za-z0-9._\/ -]+$/.test(s), "may contain only letters, digits, '.', '_', '-', ' ' and '/'");

export const healthPathSchema = z
  .string()
  .max(255)
  .regex(/^\/[A-Za-z0-9._~!$&'()*+,;=:@%\/?-]*$/, "must start with '/' and be a URL path");

/** Process types name containers and Kubernetes objects, so they are DNS-label shaped. */
export const processTypeSchema = z.string().regex(/^[a-z0-9](?:[a-z0-9-]{0,28}[a-z0-9])?$/, "process types are 1-30 lowercase letters, digits and dashes");

export const podClasses = ["nano", "small", "medium", "large"] as const;
export const platforms = ["wind", "steam", "diesel", "stirling", "nuclear", "electric"] as const;

export const processCountsSchema = z
  .record(processTypeSchema, z.number().int().min(0).max(20))
  .refine((m) => Object.keys(m).length <= 20, "at most 20 process types");
export const processPodClassesSchema = z
  .record(processTypeSchema, z.enum(podClasses))
  .refine((m) => Object.keys(m).length <= 20, "at most 20 process types");

/** A short free-text label (no control characters). */
export const labelSchema = z.string().trim().min(1).max(100).refine(noControl, "must not contain control characters");
