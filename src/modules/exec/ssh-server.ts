// The built-in SSH server (`--ssh`, default 127.0.0.1:2222, `off` disables) for the published
// CLI's `ancla shell`/`ancla ssh`: `ssh -p PORT token:TOKEN@HOST [command]`. The only way in is
// a single-use exec token as the user name (method "none"); the session is bridged to an exec in
// a running replica — a PTY with window changes when the client asks for one, plain pipes
// otherwise, stdin EOF passed on, the exit status passed back. ssh2 is loaded lazily.
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { createServer, type Socket } from "node:net";
import { join } from "node:path";
import type { Connection, Server, ServerChannel } from "ssh2";
import type { Deps } from "../../deps";
import type { ExecSession } from "../../targets/target";
import { redeemToken, startExec, type Redeemed } from "./sessions";

export const HOST_KEY_FILE = "ssh_host_ed25519_key";
export const AUTH_TIMEOUT_MS = 15_000;
const MAX_CONNECTIONS = 64;
// before a client's SSH identification line ssh2 counts nothing and times nothing out: the TCP
// side is bounded here (sockets in all, per address, and the time to send that line)
export const MAX_SOCKETS = 256;
export const MAX_SOCKETS_PER_ADDRESS = 32;

/** The host key in the data dir, made on first start (mode 0600; never rewritten). */
export async function loadHostKey(dataDir: string): Promise<string> {
  const file = join(dataDir, HOST_KEY_FILE);
  if (existsSync(file)) return readFileSync(file, "utf8");
  const { utils } = await import("ssh2");
  const pair = utils.generateKeyPairSync("ed25519");
  try {
    writeFileSync(file, pair.private, { mode: 0o600, flag: "wx" });
  } catch (e) {
    if ((e as { code?: string }).code !== "EEXIST") throw e;
  }
  return readFileSync(file, "utf8");
}

export type RunningSshServer = { port: number; close: () => Promise<void> };

/**
 * `authTimeoutMs`: how long a connection may take to identify itself and then to authenticate
 * (AUTH_TIMEOUT_MS; the server passes nothing, an in-process test a shorter wait).
 */
export async function startSshServer(deps: Deps, hostname: string, port: number, opts: { authTimeoutMs?: number } = {}): Promise<RunningSshServer> {
  const authTimeoutMs = opts.authTimeoutMs ?? AUTH_TIMEOUT_MS;
  const { Server: SshServer } = await import("ssh2");
  const hostKey = await loadHostKey(deps.config.dataDir);
  const connections = new Set<Connection>();
  const server: Server = new SshServer({ hostKeys: [hostKey], ident: "ancla" }, (client, info) => {
    if (connections.size >= MAX_CONNECTIONS) return void client.end();
    connections.add(client);
    serveConnection(deps, client, info.ip, authTimeoutMs);
    client.on("close", () => connections.delete(client));
  });
  server.on("error", (e: Error) => deps.logger.warn("ssh server error", { error: e.message }));
  const sockets = new Set<Socket>();
  const perAddress = new Map<string, number>();
  const tcp = createServer((socket) => {
    const address = socket.remoteAddress ?? "";
    if (sockets.size >= MAX_SOCKETS || (perAddress.get(address) ?? 0) >= MAX_SOCKETS_PER_ADDRESS) return void socket.destroy();
    sockets.add(socket);
    perAddress.set(address, (perAddress.get(address) ?? 0) + 1);
    // no identification line in time: gone (after it, the authentication timeout takes over)
    const identTimer = setTimeout(() => socket.destroy(), authTimeoutMs);
    const watch = (d: Buffer) => d.includes(0x0a) && (clearTimeout(identTimer), socket.off("data", watch));
    socket.on("data", watch);
    socket.once("close", () => {
      clearTimeout(identTimer);
      sockets.delete(socket);
      const n = (perAddress.get(address) ?? 1) - 1;
      if (n > 0) perAddress.set(address, n);
      else perAddress.delete(address);
    });
    server.injectSocket(socket);
  });
  await new Promise<void>((resolve, reject) => {
    tcp.once("error", reject);
    tcp.listen(port, hostname, () => {
      tcp.off("error", reject);
      resolve();
    });
  });
  tcp.on("error", (e: Error) => deps.logger.warn("ssh server error", { error: e.message }));
  const bound = (tcp.address() as { port: number }).port;
  return {
    port: bound,
    close: () =>
      new Promise<void>((resolve) => {
        for (const c of connections) c.end();
        for (const s of sockets) s.destroy();
        tcp.close(() => resolve());
      }),
  };
}

function serveConnection(deps: Deps, client: Connection, remote: string, authTimeoutMs: number): void {
  let redeemed: Redeemed | null = null;
  let attempted = false;
  let used = false;
  const authTimer = setTimeout(() => client.end(), authTimeoutMs);
  client.on("error", () => {});
  client.on("authentication", (ctx) => {
    // the user name carries the token; a connection gets one try, whatever the method
    const name = ctx.username;
    if (attempted || !name.startsWith("token:")) return ctx.reject([]);
    attempted = true;
    void redeemToken(deps, name.slice("token:".length), "ssh", remote).then(
      (r) => ((redeemed = r) ? ctx.accept() : ctx.reject([])),
      () => ctx.reject([]),
    );
  });
  client.on("ready", () => {
    clearTimeout(authTimer);
    client.on("session", (accept) => {
      const session = accept();
      let pty: { cols: number; rows: number; term: string } | null = null;
      let exec: ExecSession | null = null;
      session.on("pty", (ok, _no, info) => {
        pty = { cols: info.cols, rows: info.rows, term: info.term };
        ok?.();
      });
      session.on("window-change", (ok, _no, info) => {
        if (pty) (pty.cols = info.cols), (pty.rows = info.rows);
        void exec?.resize(info.cols, info.rows);
        ok?.();
      });
      session.on("env", (ok) => ok?.());
      const begin = (channel: ServerChannel, command: string | undefined) => {
        // one command per token
        if (used || !redeemed) {
          channel.stderr.write("This exec token was already used; request a new one.\r\n");
          channel.exit(255);
          return void channel.end();
        }
        used = true;
        void bridge(deps, redeemed, channel, command, pty).then((s) => (exec = s));
      };
      session.on("shell", (ok) => begin(ok(), undefined));
      session.on("exec", (ok, _no, info) => begin(ok(), info.command));
      session.on("subsystem", (_ok, no) => no?.());
    });
    client.on("tcpip", (_a, reject) => reject());
    client.on("openssh.streamlocal", (_a, reject) => reject());
    client.on("request", (_a, reject) => reject?.());
  });
}

async function bridge(deps: Deps, r: Redeemed, channel: ServerChannel, command: string | undefined, pty: { cols: number; rows: number; term: string } | null): Promise<ExecSession | null> {
  let exec: ExecSession;
  try {
    exec = await startExec(deps, r, { command, tty: pty !== null, cols: pty?.cols, rows: pty?.rows, term: pty?.term });
  } catch (e) {
    deps.logger.warn("exec failed to start", { session: r.session.id, error: (e as Error).message });
    channel.stderr.write("Could not start the command in the replica.\r\n");
    channel.exit(255);
    channel.end();
    return null;
  }
  exec.onOutput((fd, data) => {
    try {
      if (fd === 2) channel.stderr.write(Buffer.from(data));
      else channel.write(Buffer.from(data));
    } catch {}
  });
  channel.on("data", (d: Buffer) => exec.write(d));
  channel.on("end", () => exec.end());
  channel.on("close", () => exec.close());
  void exec.exited.then((code) => {
    // the client may have gone first: nothing left to tell it
    try {
      channel.exit(code ?? 255);
      channel.end();
    } catch {}
  });
  return exec;
}
