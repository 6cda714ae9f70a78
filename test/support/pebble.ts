// A real ACME CA for tests: Debian's `pebble` (Let's Encrypt's test CA) with `pebble-challtestsrv`
// as its DNS, both child processes on loopback ports, configured in a temp dir. Pebble's HTTPS
// listener certificate is made here with openssl; a server that talks to Pebble trusts it through
// NODE_EXTRA_CA_CERTS. HTTP-01 validation connects to `httpPort` (the router's HTTP port) at the
// address challtestsrv gives the name (127.0.0.1 unless a test changes it).
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Subprocess } from "bun";
import { freePort } from "./raw-http";

export const PEBBLE = "/usr/bin/pebble";
export const CHALLTESTSRV = "/usr/bin/pebble-challtestsrv";

export type Pebble = {
  directory: string;
  /** PEM of Pebble's listener certificate (for NODE_EXTRA_CA_CERTS). */
  listenerCaFile: string;
  dnsServer: string;
  /** The root that signs issued certificates (from the management API). */
  root: () => Promise<string>;
  /** Make challtestsrv answer A queries for `host` with `address`. */
  setA: (host: string, address: string) => Promise<void>;
  stop: () => Promise<void>;
};

export function requirePebble(): void {
  for (const bin of [PEBBLE, CHALLTESTSRV, "/usr/bin/openssl"]) {
    if (!existsSync(bin)) throw new Error(`${bin} is missing: apt-get install pebble openssl (.ci/run installs them)`);
  }
}

async function waitPort(port: number, proc: Subprocess, what: string): Promise<void> {
  for (let i = 0; i < 200; i++) {
    if (proc.exitCode !== null) throw new Error(`${what} exited with ${proc.exitCode}: ${await new Response(proc.stderr as ReadableStream).text()}`);
    const up = await Bun.connect({ hostname: "127.0.0.1", port, socket: { data() {} } }).then((s) => (s.end(), true)).catch(() => false);
    if (up) return;
    await Bun.sleep(50);
  }
  throw new Error(`${what} did not listen on ${port}`);
}

export async function startPebble(httpPort: number): Promise<Pebble> {
  requirePebble();
  const dir = mkdtempSync(join(tmpdir(), "ancla-pebble-"));
  const cert = join(dir, "listener.pem");
  const key = join(dir, "listener.key");
  const ssl = Bun.spawnSync(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-days", "2", "-keyout", key, "-out", cert, "-subj", "/CN=pebble listener", "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"], { stderr: "pipe" });
  if (ssl.exitCode !== 0) throw new Error(`openssl failed: ${ssl.stderr.toString()}`);
  const [acmePort, mgmtPort, dnsPort, chMgmtPort, tlsPort] = [freePort(), freePort(), freePort(), freePort(), freePort()];
  const dns = Bun.spawn([CHALLTESTSRV, "-dns01", `127.0.0.1:${dnsPort}`, "-management", `127.0.0.1:${chMgmtPort}`, "-http01", "", "-https01", "", "-tlsalpn01", "", "-defaultIPv4", "127.0.0.1", "-defaultIPv6", ""], { stdout: "ignore", stderr: "pipe" });
  const config = { pebble: { listenAddress: `127.0.0.1:${acmePort}`, managementListenAddress: `127.0.0.1:${mgmtPort}`, certificate: cert, privateKey: key, httpPort, tlsPort, ocspResponderURL: "", externalAccountBindingRequired: false } };
  writeFileSync(join(dir, "pebble.json"), JSON.stringify(config));
  const ca = Bun.spawn([PEBBLE, "-config", join(dir, "pebble.json"), "-dnsserver", `127.0.0.1:${dnsPort}`, "-strict=false"], {
    env: { ...process.env, PEBBLE_VA_NOSLEEP: "1", PEBBLE_WFE_NONCEREJECT: "0", PEBBLE_AUTHZREUSE: "0" },
    stdout: "ignore",
    stderr: "pipe",
  });
  const stop = async () => {
    for (const p of [ca, dns]) p.kill("SIGTERM");
    await Promise.all([ca.exited, dns.exited]);
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitPort(chMgmtPort, dns, "pebble-challtestsrv");
    await waitPort(acmePort, ca, "pebble");
    await waitPort(mgmtPort, ca, "pebble management");
  } catch (e) {
    await stop();
    throw e;
  }
  const tlsFetch = (url: string, init: RequestInit = {}) => fetch(url, { ...init, tls: { ca: Bun.file(cert) } } as RequestInit);
  return {
    directory: `https://127.0.0.1:${acmePort}/dir`,
    listenerCaFile: cert,
    dnsServer: `127.0.0.1:${dnsPort}`,
    root: async () => (await tlsFetch(`https://127.0.0.1:${mgmtPort}/roots/0`)).text(),
    async setA(host, address) {
      const res = await fetch(`http://127.0.0.1:${chMgmtPort}/add-a`, { method: "POST", body: JSON.stringify({ host: host.endsWith(".") ? host : `${host}.`, addresses: [address] }) });
      if (!res.ok) throw new Error(`challtestsrv add-a: ${res.status}`);
    },
    stop,
  };
}
