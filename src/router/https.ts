// The router's HTTPS listener: one Bun.serve with every certificate, picked by SNI. Bun cannot
// change a running server's certificates (server.reload ignores `tls`), so a new set is served by
// a second server bound to the same port (SO_REUSEPORT) before the old one stops accepting; the
// old one finishes its requests and WebSockets. The first bind probes the port without
// SO_REUSEPORT, so a port another process holds is an error, never shared.
import type { Server } from "bun";
import { ownAcceptQueue, probeFreePort, steerPort } from "../lib/listeners";

/** A certificate chain and its key (PEM); `serverName` picks it by SNI, none = the default. */
export type TlsCertificate = { serverName?: string; cert: string; key: string };

export type HttpsListener = {
  port: number;
  reload: (certs: TlsCertificate[]) => Promise<void>;
  /** Closes the idle keep-alive connections of every server still open; how many. */
  closeIdle: () => number;
  stop: (force?: boolean) => Promise<void>;
};

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type ServeOptions = Record<string, any>;

/** Bun takes the first entry as the default context: the one without a serverName goes first. */
function tlsOption(certs: TlsCertificate[]) {
  if (!certs.length) throw new Error("HTTPS needs at least one certificate (the default)");
  const sorted = [...certs].sort((a, b) => (a.serverName ? 1 : 0) - (b.serverName ? 1 : 0));
  return sorted.map((c) => (c.serverName ? { cert: c.cert, key: c.key, serverName: c.serverName } : { cert: c.cert, key: c.key }));
}

export function startHttpsListener(at: { hostname: string; port: number; certificates: TlsCertificate[]; takeOver?: boolean }, options: ServeOptions): HttpsListener {
  // the probe: fails with EADDRINUSE when anything (even with SO_REUSEPORT) holds the port; a
  // reload's successor (takeOver) shares the port with its predecessor on purpose
  const port = at.takeOver ? at.port : probeFreePort(at.hostname, at.port);
  const bind = (certs: TlsCertificate[]): Server<unknown> => Bun.serve({ ...options, hostname: at.hostname, port, reusePort: true, tls: tlsOption(certs) } as never);
  let current = bind(at.certificates);
  let chain: Promise<void> = Promise.resolve();
  // servers that stopped accepting but still finish requests and WebSockets (may take hours)
  const retiring = new Set<Server<unknown>>();
  return {
    port,
    reload(certs) {
      // one swap at a time: two new servers racing would leave one of them listening forever
      chain = chain.then(async () => {
        const next = bind(certs);
        const old = current;
        current = next;
        retiring.add(old);
        // closing a listener resets the connections still in its accept queue: steer new ones to
        // the new listener, let the old queue empty, then close (steering is back on "oldest" once
        // the old listener is gone, which is the new one)
        const steered = steerPort(port, 1);
        const until = Date.now() + 5000;
        do await Bun.sleep(50);
        while (ownAcceptQueue([port]) > 0 && Date.now() < until);
        void old.stop(false).finally(() => retiring.delete(old));
        if (steered) steerPort(port, 0);
      });
      return chain;
    },
    closeIdle: () => [current, ...retiring].reduce((n, s) => n + s.closeIdleConnections(), 0),
    async stop(force = false) {
      await chain.catch(() => undefined);
      await Promise.all([current, ...retiring].map((s) => s.stop(force)));
    },
  };
}
