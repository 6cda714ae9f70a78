// The registry token server's signing key: ECDSA P-256, made on first use, its PKCS#8 PEM sealed
// under the master key, and a self-signed certificate for it (the registry's rootcertbundle; every
// token carries it in its `x5c` header, which distribution 2.x verifies against that bundle).
import { createPrivateKey, type KeyObject } from "node:crypto";
import * as x509 from "@peculiar/x509";
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import * as repo from "./repo";

const YEARS_10_MS = 10 * 365 * 24 * 3600 * 1000;
const KEY_ID = "registry-token";

export type SigningKey = { key: KeyObject; certificatePem: string; certificateDer: Buffer };

const pem = (label: string, der: ArrayBuffer): string =>
  `-----BEGIN ${label}-----\n${Buffer.from(der).toString("base64").replace(/(.{64})/g, "$1\n").replace(/\n$/, "")}\n-----END ${label}-----\n`;

async function generate(issuer: string): Promise<{ keyPem: string; certPem: string }> {
  const alg = { name: "ECDSA", namedCurve: "P-256", hash: "SHA-256" } as const;
  const keys = (await crypto.subtle.generateKey(alg, true, ["sign", "verify"])) as CryptoKeyPair;
  const now = Date.now();
  const cert = await x509.X509CertificateGenerator.createSelfSigned({
    serialNumber: Buffer.from(crypto.getRandomValues(new Uint8Array(8))).toString("hex").replace(/^[89a-f]/, "1"),
    name: `CN=${issuer.replace(/[,=+<>#;"\\]/g, "")} registry token signer`,
    notBefore: new Date(now - 3600_000),
    notAfter: new Date(now + YEARS_10_MS),
    keys,
    signingAlgorithm: alg,
    extensions: [new x509.BasicConstraintsExtension(false), new x509.KeyUsagesExtension(x509.KeyUsageFlags.digitalSignature, true)],
  });
  return { keyPem: pem("PRIVATE KEY", await crypto.subtle.exportKey("pkcs8", keys.privateKey)), certPem: cert.toString("pem") };
}

const loaded = new WeakMap<Deps, SigningKey>();
const pending = new WeakMap<Deps, Promise<SigningKey>>();

function fromRow(deps: Deps, row: NonNullable<ReturnType<typeof repo.findSigningKey>>): SigningKey {
  const key = createPrivateKey(deps.secrets.open(row.privateKey));
  const certificateDer = Buffer.from(new x509.X509Certificate(row.certificate).rawData);
  return { key, certificatePem: row.certificate, certificateDer };
}

/** The signing key, generated and stored (sealed) the first time it is needed. */
export function signingKey(deps: Deps): Promise<SigningKey> {
  const have = loaded.get(deps);
  if (have) return Promise.resolve(have);
  let p = pending.get(deps);
  if (!p) {
    p = (async () => {
      let row = repo.findSigningKey(deps.db);
      if (!row) {
        const made = await generate(deps.config.registryIssuer);
        repo.insertSigningKey(deps.db, { id: KEY_ID, privateKey: deps.secrets.seal(made.keyPem), certificate: made.certPem, createdAt: isoNow(deps) });
        row = repo.findSigningKey(deps.db)!; // another process may have won the insert: use what is stored
      }
      const k = fromRow(deps, row);
      loaded.set(deps, k);
      return k;
    })().finally(() => pending.delete(deps));
    pending.set(deps, p);
  }
  return p;
}
