// One certificate from an ACME CA (acme-client): the account key is created once per directory and
// kept sealed; each order is answered with HTTP-01 through `challenges`, which the router serves
// at /.well-known/acme-challenge/<token>. Keys are ECDSA P-256. Nothing here logs key material.
import * as acme from "acme-client";
import type { Deps } from "../../deps";
import { isoNow } from "../../deps";
import * as repo from "./repo";

export type Issued = { cert: string; key: string; notBefore: string; notAfter: string };
/** Pending HTTP-01 answers: token → key authorization. */
export type ChallengeStore = Map<string, string>;

// acme-client retries polls on its own; bound them so one stuck order cannot hold the queue
const CLIENT_OPTIONS = { backoffAttempts: 8, backoffMin: 500, backoffMax: 5000 };

async function accountKey(deps: Deps, directory: string, email: string): Promise<{ key: string; url?: string }> {
  const row = repo.findAccount(deps.db, directory);
  if (row) return { key: deps.secrets.open(row.keySealed), url: row.accountUrl ?? undefined };
  const key = (await acme.crypto.createPrivateEcdsaKey()).toString();
  repo.insertAccount(deps.db, { directory, email, keySealed: deps.secrets.seal(key), createdAt: isoNow(deps) });
  // another issuance may have raced us to it: the stored key wins
  const stored = repo.findAccount(deps.db, directory)!;
  return { key: deps.secrets.open(stored.keySealed), url: stored.accountUrl ?? undefined };
}

export async function issueCertificate(deps: Deps, hostname: string, challenges: ChallengeStore): Promise<Issued> {
  const directory = deps.config.acmeDirectory;
  const email = deps.config.acmeEmail!;
  const account = await accountKey(deps, directory, email);
  const client = new acme.Client({ directoryUrl: directory, accountKey: account.key, accountUrl: account.url, ...CLIENT_OPTIONS });
  const [key, csr] = await acme.crypto.createCsr({ commonName: hostname, altNames: [hostname] }, await acme.crypto.createPrivateEcdsaKey());
  const cert = await client.auto({
    csr,
    email,
    termsOfServiceAgreed: true,
    challengePriority: ["http-01"],
    // acme-client's own pre-check resolves the name with the system resolver; ours ran already
    skipChallengeVerification: true,
    challengeCreateFn: async (_authz, challenge, keyAuthorization) => void challenges.set(challenge.token, keyAuthorization),
    challengeRemoveFn: async (_authz, challenge) => void challenges.delete(challenge.token),
  });
  if (!account.url) repo.setAccountUrl(deps.db, directory, client.getAccountUrl());
  const info = acme.crypto.readCertificateInfo(cert);
  return { cert, key: key.toString(), notBefore: info.notBefore.toISOString(), notAfter: info.notAfter.toISOString() };
}

/** The CA's problem document in one line ("urn:…:connection :: 127.0.0.2: Connection refused"), else the error message. */
export function acmeErrorText(e: unknown): string {
  const err = e as { message?: string };
  return String(err?.message ?? e).replace(/\s+/g, " ").slice(0, 500);
}
