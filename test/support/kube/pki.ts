// Certificates and kubeconfig for the test Kubernetes API server: a throwaway CA, a server
// certificate for 127.0.0.1 and a client certificate (CN = user, O = system:masters), made with
// openssl (argument arrays, no shell) in a temp dir, and the kubeconfig text a client reads.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

export type Pki = { ca: string; serverCert: string; serverKey: string; clientCert: string; clientKey: string };

function openssl(args: string[], cwd: string): void {
  const r = Bun.spawnSync(["openssl", ...args], { cwd, stdout: "ignore", stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`openssl ${args[0]} failed: ${r.stderr.toString()}`);
}

const EC = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"];

/** A CA, a server certificate valid for 127.0.0.1/localhost and a client-auth certificate. */
export function makePki(user = "ancla-test"): Pki {
  const dir = mkdtempSync(join(tmpdir(), "ancla-kube-pki-"));
  try {
    openssl(["req", "-x509", ...EC, "-days", "3", "-keyout", "ca.key", "-out", "ca.crt", "-subj", "/CN=ancla-test-kubernetes-ca"], dir);
    const leaf = (name: string, subj: string, ext: string) => {
      writeFileSync(join(dir, `${name}.ext`), `${ext}\n`);
      openssl(["req", ...EC, "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subj], dir);
      openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "3", "-out", `${name}.crt`, "-extfile", `${name}.ext`], dir);
    };
    leaf("server", "/CN=kube-apiserver", "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth");
    leaf("client", `/O=system:masters/CN=${user}`, "extendedKeyUsage=clientAuth");
    const read = (f: string) => readFileSync(join(dir, f), "utf8");
    return { ca: read("ca.crt"), serverCert: read("server.crt"), serverKey: read("server.key"), clientCert: read("client.crt"), clientKey: read("client.key") };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const b64 = (s: string) => Buffer.from(s).toString("base64");

export type KubeconfigOptions = {
  server: string;
  pki: Pki;
  token?: string;
  context?: string;
  namespace?: string;
  /** leave the client certificate out (a token-only user) */
  withoutClientCert?: boolean;
};

/** The kubeconfig YAML a user would hand to Ancla: one cluster, one user, one current context. */
export function kubeconfigText(o: KubeconfigOptions): string {
  const ctx = o.context ?? "ancla-test";
  const user = [
    ...(o.withoutClientCert ? [] : [`    client-certificate-data: ${b64(o.pki.clientCert)}`, `    client-key-data: ${b64(o.pki.clientKey)}`]),
    ...(o.token ? [`    token: ${o.token}`] : []),
  ];
  return [
    "apiVersion: v1",
    "kind: Config",
    "clusters:",
    `- name: ${ctx}-cluster`,
    "  cluster:",
    `    server: ${o.server}`,
    `    certificate-authority-data: ${b64(o.pki.ca)}`,
    "users:",
    `- name: ${ctx}-user`,
    "  user:",
    ...(user.length ? user : ["    {}"]),
    "contexts:",
    `- name: ${ctx}`,
    "  context:",
    `    cluster: ${ctx}-cluster`,
    `    user: ${ctx}-user`,
    ...(o.namespace ? [`    namespace: ${o.namespace}`] : []),
    `current-context: ${ctx}`,
    "",
  ].join("\n");
}
