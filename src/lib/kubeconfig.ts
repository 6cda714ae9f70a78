// A kubeconfig sent as text, read without any file access: the chosen context's cluster (server,
// CA, insecure-skip-tls-verify, tls-server-name) and user (client certificate/key, bearer token or
// basic auth). References to files on this server and credential plugins are refused — a
// kubeconfig comes from a user, and must not make the server read its own files or run commands.
import { createHash } from "node:crypto";
import type { parse } from "yaml";

// required on first parse, not imported: `ancla serve` opens its database (which may hold
// kubeconfigs) before it listens, and most servers have none to parse (yaml costs ~10 ms to load)
const parseYaml = (text: string, options: { maxAliasCount: number }): ReturnType<typeof parse> => (require("yaml") as typeof import("yaml")).parse(text, options);

export class KubeconfigError extends Error {}

export type KubeCredentials = {
  /** cluster API server URL (https://… or http://…) */
  server: string;
  /** the context used: the requested one, else current-context, else the only one */
  context: string;
  /** namespace the context names, if any */
  contextNamespace: string | null;
  /** PEM text */
  ca: string | null;
  cert: string | null;
  key: string | null;
  token: string | null;
  username: string | null;
  password: string | null;
  insecureSkipTlsVerify: boolean;
  tlsServerName: string | null;
};

/** What the API shows of a kubeconfig: never a credential. */
export type KubeconfigSummary = { server: string; context: string; fingerprint: string };

const MAX_ENTRIES = 100;

type Named = { name?: unknown; [k: string]: unknown };

function list(doc: Record<string, unknown>, key: string): Named[] {
  const v = doc[key];
  if (v === undefined || v === null) return [];
  if (!Array.isArray(v) || v.length > MAX_ENTRIES) throw new KubeconfigError(`${key} must be a list (at most ${MAX_ENTRIES} entries)`);
  return v.filter((e): e is Named => !!e && typeof e === "object");
}

function byName(entries: Named[], name: string, key: string, field: string): Record<string, unknown> {
  const found = entries.find((e) => e.name === name);
  const body = found?.[field];
  if (!found || !body || typeof body !== "object") throw new KubeconfigError(`${key} has no entry named '${name}'`);
  return body as Record<string, unknown>;
}

const str = (o: Record<string, unknown>, k: string): string | null => {
  const v = o[k];
  if (v === undefined || v === null || v === "") return null;
  if (typeof v !== "string") throw new KubeconfigError(`${k} must be a string`);
  return v;
};

function pemData(o: Record<string, unknown>, k: string): string | null {
  const v = str(o, k);
  if (v === null) return null;
  const text = Buffer.from(v, "base64").toString("utf8");
  if (!text.includes("-----BEGIN ")) throw new KubeconfigError(`${k} must be base64 of PEM data`);
  return text;
}

/** Fingerprint of the kubeconfig text: shown so a user can tell which one is stored, reveals nothing. */
export const kubeconfigFingerprint = (text: string): string => "sha256:" + createHash("sha256").update(text).digest("hex").slice(0, 16);

/** Parse a kubeconfig and resolve one context's credentials; throws KubeconfigError with what is wrong. */
export function parseKubeconfig(text: string, context?: string | null): KubeCredentials {
  let doc: unknown;
  try {
    doc = parseYaml(text, { maxAliasCount: 50 });
  } catch {
    throw new KubeconfigError("is not valid YAML");
  }
  if (!doc || typeof doc !== "object" || Array.isArray(doc)) throw new KubeconfigError("is not a kubeconfig (expected a YAML mapping with clusters, contexts and users)");
  const d = doc as Record<string, unknown>;
  const clusters = list(d, "clusters");
  const contexts = list(d, "contexts");
  const users = list(d, "users");
  if (!clusters.length) throw new KubeconfigError("has no clusters");
  if (!contexts.length) throw new KubeconfigError("has no contexts");
  const current = typeof d["current-context"] === "string" && d["current-context"] ? (d["current-context"] as string) : null;
  const name = context || current || (contexts.length === 1 && typeof contexts[0]!.name === "string" ? (contexts[0]!.name as string) : null);
  if (!name) throw new KubeconfigError("names no current-context; choose one with 'context'");
  const ctx = byName(contexts, name, "contexts", "context");
  const clusterName = str(ctx, "cluster");
  if (!clusterName) throw new KubeconfigError(`context '${name}' names no cluster`);
  const cluster = byName(clusters, clusterName, "clusters", "cluster");
  const userName = str(ctx, "user");
  const user = userName ? byName(users, userName, "users", "user") : {};

  for (const k of ["certificate-authority"]) if (cluster[k] !== undefined) throw new KubeconfigError(`cluster '${clusterName}' refers to a file (${k}); embed it as ${k}-data`);
  for (const k of ["client-certificate", "client-key", "tokenFile", "token-file"]) {
    if (user[k] !== undefined) throw new KubeconfigError(`user '${userName}' refers to a file (${k}); embed the data instead`);
  }
  if (user.exec !== undefined || user["auth-provider"] !== undefined) {
    throw new KubeconfigError(`user '${userName}' uses a credential plugin (${user.exec !== undefined ? "exec" : "auth-provider"}), which is not supported; use a token or client certificate`);
  }
  const server = str(cluster, "server");
  if (!server) throw new KubeconfigError(`cluster '${clusterName}' has no server`);
  let url: URL;
  try {
    url = new URL(server);
  } catch {
    throw new KubeconfigError(`cluster '${clusterName}' has an invalid server URL`);
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") throw new KubeconfigError(`cluster '${clusterName}' server must be an http(s) URL`);
  if (url.username || url.password) throw new KubeconfigError(`cluster '${clusterName}' server URL must not carry credentials`);
  const cert = pemData(user, "client-certificate-data");
  const key = pemData(user, "client-key-data");
  if (!!cert !== !!key) throw new KubeconfigError(`user '${userName}' needs both client-certificate-data and client-key-data`);
  const ns = str(ctx, "namespace");
  return {
    server: url.toString().replace(/\/$/, ""),
    context: name,
    contextNamespace: ns,
    ca: pemData(cluster, "certificate-authority-data"),
    cert,
    key,
    token: str(user, "token"),
    username: str(user, "username"),
    password: str(user, "password"),
    insecureSkipTlsVerify: cluster["insecure-skip-tls-verify"] === true,
    tlsServerName: str(cluster, "tls-server-name"),
  };
}

export function summarizeKubeconfig(text: string, context?: string | null): KubeconfigSummary {
  const c = parseKubeconfig(text, context);
  return { server: c.server, context: c.context, fingerprint: kubeconfigFingerprint(text) };
}
