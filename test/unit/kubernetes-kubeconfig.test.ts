// Reading a kubeconfig sent by a user: the chosen context's server and credentials, and refusals
// for what would make the server read its own files or run commands.
import { describe, expect, setDefaultTimeout, test } from "bun:test";
import { KubeconfigError, parseKubeconfig, summarizeKubeconfig } from "../../src/lib/kubeconfig";

setDefaultTimeout(120_000);

const PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n";
const b64 = (s: string) => Buffer.from(s).toString("base64");
const cfg = (user: Record<string, unknown>, extra: Record<string, unknown> = {}, cluster: Record<string, unknown> = {}) =>
  JSON.stringify({
    clusters: [
      { name: "a", cluster: { server: "https://10.0.0.1:6443", "certificate-authority-data": b64(PEM), ...cluster } },
      { name: "b", cluster: { server: "https://k8s.example.com", "insecure-skip-tls-verify": true } },
    ],
    users: [{ name: "u", user }],
    contexts: [
      { name: "one", context: { cluster: "a", user: "u", namespace: "apps" } },
      { name: "two", context: { cluster: "b", user: "u" } },
    ],
    "current-context": "one",
    ...extra,
  });

describe("kubeconfig", () => {
  test("current-context by default, another on request; CA, token, namespace, insecure flag", () => {
    const c = parseKubeconfig(cfg({ token: "abc" }));
    expect(c).toMatchObject({ server: "https://10.0.0.1:6443", context: "one", contextNamespace: "apps", ca: PEM, token: "abc", insecureSkipTlsVerify: false });
    expect(parseKubeconfig(cfg({ token: "abc" }), "two")).toMatchObject({ server: "https://k8s.example.com", context: "two", ca: null, insecureSkipTlsVerify: true });
  });

  test("the summary shows server, context and a fingerprint — never a credential", () => {
    const text = cfg({ token: "very-secret-token" });
    const s = summarizeKubeconfig(text);
    expect(s.server).toBe("https://10.0.0.1:6443");
    expect(s.context).toBe("one");
    expect(s.fingerprint).toMatch(/^sha256:[0-9a-f]{16}$/);
    expect(JSON.stringify(s)).not.toContain("very-secret-token");
    expect(summarizeKubeconfig(cfg({ token: "other" })).fingerprint).not.toBe(s.fingerprint);
  });

  test.each([
    [{ exec: { command: "aws", args: ["eks", "get-token"] } }, {}, {}, "not supported; use a token or client certificate"],
    [{ "auth-provider": { name: "gcp" } }, {}, {}, "not supported; use a token or client certificate"],
    [{ "client-certificate": "/etc/shadow", "client-key": "/root/key" }, {}, {}, "refers to a file"],
    [{ tokenFile: "/var/run/secrets/token" }, {}, {}, "refers to a file"],
    [{ token: "t" }, {}, { "certificate-authority": "/etc/ssl/ca.pem" }, "refers to a file"],
    [{ "client-certificate-data": b64(PEM) }, {}, {}, "needs both"],
    [{ token: "t" }, { "current-context": "nope" }, {}, "no entry named 'nope'"],
    [{ token: "t" }, {}, { server: "file:///etc/passwd" }, "http(s) URL"],
    [{ token: "t" }, {}, { server: "https://user:pw@k8s.example.com" }, "must not carry credentials"],
    [{ token: "t" }, {}, { "certificate-authority-data": b64("not pem") }, "PEM"],
  ])("refused: %j %j %j", (user, extra, cluster, message) => {
    expect(() => parseKubeconfig(cfg(user, extra, cluster))).toThrow(message as string);
  });

  test("not YAML, or YAML that is no kubeconfig", () => {
    expect(() => parseKubeconfig("not: [a kubeconfig")).toThrow(KubeconfigError);
    expect(() => parseKubeconfig("just text")).toThrow(KubeconfigError);
    expect(() => parseKubeconfig("clusters: []\n")).toThrow("has no clusters");
  });
});
