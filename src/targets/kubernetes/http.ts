// The HTTP layer for @kubernetes/client-node under Bun: its default layer hands TLS settings to an
// undici dispatcher that Bun ignores, so CA, client certificate and insecure-skip-tls-verify would
// be dropped silently. This one sends every request with Bun's fetch and the kubeconfig's TLS and
// credentials; watches and logs (streams) use the same `kubeFetch`.
import type { KubeCredentials } from "../../lib/kubeconfig";

export type KubeFetch = (path: string, init?: { method?: string; headers?: Record<string, string>; body?: string; signal?: AbortSignal }) => Promise<Response>;

type BunTls = { ca?: string; cert?: string; key?: string; rejectUnauthorized: boolean; serverName?: string };

const REQUEST_TIMEOUT_MS = 30_000;

export function tlsOf(c: KubeCredentials): BunTls {
  return {
    ...(c.ca ? { ca: c.ca } : {}),
    ...(c.cert && c.key ? { cert: c.cert, key: c.key } : {}),
    rejectUnauthorized: !c.insecureSkipTlsVerify,
    ...(c.tlsServerName ? { serverName: c.tlsServerName } : {}),
  };
}

export function authHeaders(c: KubeCredentials): Record<string, string> {
  if (c.token) return { authorization: `Bearer ${c.token}` };
  if (c.username) return { authorization: `Basic ${Buffer.from(`${c.username}:${c.password ?? ""}`).toString("base64")}` };
  return {};
}

/** fetch against the cluster: `path` is relative to the server URL, or a full URL on that server. */
export function createKubeFetch(c: KubeCredentials): KubeFetch {
  const tls = tlsOf(c);
  const auth = authHeaders(c);
  const origin = new URL(c.server);
  return (path, init = {}) => {
    const url = path.startsWith("http://") || path.startsWith("https://") ? new URL(path) : new URL(c.server + path);
    // only ever the kubeconfig's server: the credentials go nowhere else
    if (url.origin !== origin.origin) throw new Error(`refusing a request to ${url.origin}: not the cluster's API server`);
    const signal = init.signal ?? AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    return fetch(url, { method: init.method ?? "GET", headers: { ...init.headers, ...auth }, body: init.body, signal, redirect: "manual", tls } as RequestInit);
  };
}

/** client-node's HttpLibrary (PromiseHttpLibrary wrapped by the caller) over `kubeFetch`. */
export async function sendWithFetch(kubeFetch: KubeFetch, request: import("@kubernetes/client-node").RequestContext, mod: typeof import("@kubernetes/client-node")) {
  const body = request.getBody();
  if (body !== undefined && typeof body !== "string") throw new Error("only text request bodies are sent to the cluster");
  const res = await kubeFetch(request.getUrl(), { method: request.getHttpMethod(), headers: request.getHeaders(), body });
  const headers: Record<string, string> = {};
  res.headers.forEach((v, k) => (headers[k] = v));
  const bytes = Buffer.from(await res.arrayBuffer());
  return new mod.ResponseContext(res.status, headers, new mod.SelfDecodingBody(Promise.resolve(bytes)));
}
