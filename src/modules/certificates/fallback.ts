// The HTTPS listener's default certificate: self-signed, for names that have none (yet). A client
// asking for such a name sees an untrusted certificate instead of a failed handshake; it is made
// in memory at start (ECDSA P-256, WebCrypto through @peculiar/x509) and never stored.
import * as x509 from "@peculiar/x509";

const YEAR_MS = 365 * 24 * 3600 * 1000;

const pem = (label: string, der: ArrayBuffer): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;

export async function selfSignedDefault(): Promise<{ cert: string; key: string }> {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
  const keys = (await crypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex").replace(/^[89a-f]/, "1"),
    name: "CN=ancla default certificate",
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + YEAR_MS),
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(false), new x509.SubjectAlternativeNameExtension([{ type: "dns", value: "ancla.invalid" }])],
  });
  return { cert: cert.toString("pem"), key: pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", keys.privateKey)) };
}
