// @kubernetes/client-node clients for tests, over Bun's fetch: client-node's own transport drops
// the kubeconfig's TLS material under Bun (undici's dispatcher is stubbed), so requests go through
// an HttpLibrary that passes CA, client certificate/key and bearer token to Bun's fetch. Also a raw
// `request` for the streaming endpoints (watch, pods/log follow) with the same credentials.
import * as k8s from "@kubernetes/client-node";

export type KubeClients = {
  kc: k8s.KubeConfig;
  core: k8s.CoreV1Api;
  apps: k8s.AppsV1Api;
  networking: k8s.NetworkingV1Api;
  authorization: k8s.AuthorizationV1Api;
  batch: k8s.BatchV1Api;
  /** fetch(path) against the API server with the kubeconfig's credentials */
  request: (path: string, init?: RequestInit) => Promise<Response>;
};

export function kubeClients(kubeconfig: string): KubeClients {
  const kc = new k8s.KubeConfig();
  kc.loadFromString(kubeconfig);
  const cluster = kc.getCurrentCluster()!;
  const user = kc.getCurrentUser()!;
  const pem = (b64?: string) => (b64 ? Buffer.from(b64, "base64").toString() : undefined);
  const tls = { ca: pem(cluster.caData), cert: pem(user.certData), key: pem(user.keyData), rejectUnauthorized: !cluster.skipTLSVerify };
  const auth: Record<string, string> = user.token ? { authorization: `Bearer ${user.token}` } : {};
  const request = (path: string, init: RequestInit = {}) =>
    fetch(`${cluster.server}${path}`, { ...init, headers: { ...auth, ...(init.headers as Record<string, string>) }, tls } as RequestInit);
  const httpApi = k8s.wrapHttpLibrary({
    async send(ctx: k8s.RequestContext) {
          const res = await fetch(ctx.getUrl(), { method: ctx.getHttpMethod(), headers: { ...ctx.getHeaders(), ...auth }, body: ctx.getBody() as string | undefined, signal: ctx.getSignal(), tls } as RequestInit);
          const headers: Record<string, string> = {};
          res.headers.forEach((v, k) => (headers[k] = v));
          const body = Buffer.from(await res.arrayBuffer());
          return new k8s.ResponseContext(res.status, headers, { text: async () => body.toString(), binary: async () => body, stream: () => null } as unknown as k8s.ResponseBody);
    },
  });
  const config = k8s.createConfiguration({ baseServer: new k8s.ServerConfiguration(cluster.server, {}), authMethods: {}, httpApi });
  return {
    kc,
    core: new k8s.CoreV1Api(config),
    apps: new k8s.AppsV1Api(config),
    networking: new k8s.NetworkingV1Api(config),
    authorization: new k8s.AuthorizationV1Api(config),
    batch: new k8s.BatchV1Api(config),
    request,
  };
}

export type WatchStream = { events: any[]; stop: () => Promise<void> };

/** Open `path?watch=…` and collect its events (newline-delimited JSON; blank lines skipped). */
export async function watchEvents(c: KubeClients, path: string): Promise<WatchStream> {
  const ctl = new AbortController();
  const res = await c.request(path, { signal: ctl.signal });
  if (res.status !== 200) throw new Error(`watch ${path}: ${res.status} ${await res.text()}`);
  const events: any[] = [];
  const reader = res.body!.getReader();
  const reading = (async () => {
    const dec = new TextDecoder();
    let buf = "";
    for (;;) {
      const { value, done } = await reader.read().catch(() => ({ value: undefined, done: true as const }));
      if (done) return;
      buf += dec.decode(value, { stream: true });
      let i: number;
      while ((i = buf.indexOf("\n")) >= 0) {
        const line = buf.slice(0, i).trim();
        buf = buf.slice(i + 1);
        if (line) events.push(JSON.parse(line));
      }
    }
  })();
  return { events, stop: async () => (ctl.abort(), await reading) };
}
