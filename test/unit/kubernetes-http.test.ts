// The Kubernetes client's HTTP layer against a real HTTPS server that requires a client
// certificate (real TLS, certificates made with openssl): the kubeconfig's CA, client certificate
// and key, bearer token and insecure-skip-tls-verify reach the wire through client-node's typed API.
import { afterAll, beforeAll, describe, expect, setDefaultTimeout, test } from "bun:test";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parseKubeconfig } from "../../src/lib/kubeconfig";
import { connect, kubeMessage } from "../../src/targets/kubernetes/client";
import { rejectionOf } from "../support/settle";

setDefaultTimeout(120_000);

const dir = mkdtempSync(join(tmpdir(), "ancla-kube-http-"));
const f = (n: string) => join(dir, n);

function openssl(...args: string[]) {
  const r = Bun.spawnSync(["openssl", ...args], { stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
}

function makeCa(name: string) {
  openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", f(`${name}.key`), "-out", f(`${name}.crt`), "-days", "2", "-subj", `/CN=${name}`);
}
function makeCert(name: string, ca: string, ext: string) {
  openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f(`${name}.key`), "-out", f(`${name}.csr`), "-subj", `/CN=${name}`);
  Bun.write(f(`${name}.ext`), ext);
  openssl("x509", "-req", "-in", f(`${name}.csr`), "-CA", f(`${ca}.crt`), "-CAkey", f(`${ca}.key`), "-CAcreateserial", "-out", f(`${name}.crt`), "-days", "2", "-extfile", f(`${name}.ext`));
}
const read = (n: string) => readFileSync(f(n), "utf8");
const b64 = (s: string) => Buffer.from(s).toString("base64");

type Seen = { path: string; method: string; contentType: string | null; auth: string | null; body: string };
const seen: Seen[] = [];
let server: ReturnType<typeof Bun.serve>;
let base: string;

beforeAll(async () => {
  makeCa("ca");
  makeCa("other-ca");
  await makeCert("server", "ca", "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n");
  await makeCert("client", "ca", "extendedKeyUsage=clientAuth\n");
  await makeCert("stranger", "other-ca", "extendedKeyUsage=clientAuth\n");
  server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    tls: { cert: read("server.crt"), key: read("server.key"), ca: read("ca.crt"), requestCert: true, rejectUnauthorized: true },
    async fetch(req) {
      const url = new URL(req.url);
      seen.push({ path: url.pathname + url.search, method: req.method, contentType: req.headers.get("content-type"), auth: req.headers.get("authorization"), body: await req.text() });
      if (url.pathname === "/api/v1/namespaces/missing") {
        return Response.json({ kind: "Status", apiVersion: "v1", status: "Failure", message: 'namespaces "missing" not found', reason: "NotFound", code: 404 }, { status: 404 });
      }
      if (url.pathname.startsWith("/api/v1/namespaces/")) {
        const name = url.pathname.split("/")[4];
        return Response.json({ apiVersion: "v1", kind: "Namespace", metadata: { name, resourceVersion: "7" }, status: { phase: "Active" } });
      }
      return new Response("not found", { status: 404 });
    },
  });
  base = `https://127.0.0.1:${server.port}`;
});

afterAll(() => {
  server?.stop(true);
  rmSync(dir, { recursive: true, force: true });
});

function kubeconfig(user: Record<string, string>, cluster: Record<string, unknown> = { "certificate-authority-data": b64(read("ca.crt")) }) {
  return JSON.stringify({
    apiVersion: "v1",
    kind: "Config",
    clusters: [{ name: "c", cluster: { server: base, ...cluster } }],
    users: [{ name: "u", user }],
    contexts: [{ name: "ctx", context: { cluster: "c", user: "u" } }],
    "current-context": "ctx",
  });
}
const clientUser = () => ({ "client-certificate-data": b64(read("client.crt")), "client-key-data": b64(read("client.key")) });

describe("kubernetes client over Bun fetch", () => {
  test("the kubeconfig's CA and client certificate are used: a typed read answers", async () => {
    const kube = await connect(parseKubeconfig(kubeconfig(clientUser())));
    const ns = await kube.core.readNamespace({ name: "team-a" });
    expect(ns.metadata?.name).toBe("team-a");
    expect(ns.status?.phase).toBe("Active");
  });

  test("server-side apply goes out as application/apply-patch+yaml with fieldManager=ancla and force", async () => {
    const kube = await connect(parseKubeconfig(kubeconfig(clientUser())));
    seen.length = 0;
    await kube.apply({ apiVersion: "v1", kind: "Namespace", metadata: { name: "team-b", labels: { "dev.ancla.managed": "true" } } });
    const req = seen.at(-1)!;
    expect(req.method).toBe("PATCH");
    expect(req.contentType).toBe("application/apply-patch+yaml");
    const q = new URL(base + req.path).searchParams;
    expect(q.get("fieldManager")).toBe("ancla");
    expect(q.get("force")).toBe("true");
    expect(JSON.parse(req.body)).toMatchObject({ kind: "Namespace", metadata: { name: "team-b" } });
  });

  test("a bearer token is sent along with the client certificate", async () => {
    const kube = await connect(parseKubeconfig(kubeconfig({ ...clientUser(), token: "tok-123" })));
    seen.length = 0;
    await kube.core.readNamespace({ name: "x" });
    expect(seen.at(-1)!.auth).toBe("Bearer tok-123");
  });

  test("the API server's Status message is what a failure says", async () => {
    const kube = await connect(parseKubeconfig(kubeconfig(clientUser())));
    const err = await kube.core.readNamespace({ name: "missing" }).catch((e) => e);
    expect(kubeMessage(err)).toBe('the API server answered 404: namespaces "missing" not found');
  });

  test("without the cluster's CA the server is not trusted; insecure-skip-tls-verify trusts it", async () => {
    const untrusted = await connect(parseKubeconfig(kubeconfig(clientUser(), {})));
    await rejectionOf(untrusted.core.readNamespace({ name: "x" }));
    const insecure = await connect(parseKubeconfig(kubeconfig(clientUser(), { "insecure-skip-tls-verify": true })));
    expect((await insecure.core.readNamespace({ name: "x" })).metadata?.name).toBe("x");
  });

  test("a client certificate from another CA, or none, is refused by the server", async () => {
    const stranger = await connect(parseKubeconfig(kubeconfig({ "client-certificate-data": b64(read("stranger.crt")), "client-key-data": b64(read("stranger.key")) })));
    await rejectionOf(stranger.core.readNamespace({ name: "x" }));
    const anonymous = await connect(parseKubeconfig(kubeconfig({ token: "t" })));
    await rejectionOf(anonymous.core.readNamespace({ name: "x" }));
  });

  test("credentials never go to another origin than the kubeconfig's server", async () => {
    const kube = await connect(parseKubeconfig(kubeconfig({ ...clientUser(), token: "tok" })));
    expect(() => kube.fetch("https://example.invalid/api")).toThrow("not the cluster's API server");
  });
});
