// Ancla's listeners are bound with SO_REUSEPORT so a reload can hand them to the next process
// without a gap. These helpers keep the promise that an *accidental* second server on a busy port
// fails (a probe bind without SO_REUSEPORT first), and find our own listening fds (/proc/net/tcp,
// /proc/self/fd) to steer the port's new connections between the old and the new process. Nothing
// here but the probe runs on the way to a first answer: steering is set up when a reload starts.
import { readdirSync, readFileSync, readlinkSync } from "node:fs";
import { steerReuseportGroup } from "./libc";

/** queued: connections in the accept queue (for a listener, /proc's rx_queue is its backlog) */
type Listener = { inode: string; address: string; port: number; queued: number };

const LISTEN = "0A";

/** Every listening TCP socket in this network namespace (empty where /proc is not Linux's). */
export function tcpListeners(): Listener[] {
  const out: Listener[] = [];
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text: string;
    try {
      text = readFileSync(file, "utf8");
    } catch {
      continue;
    }
    for (const line of text.split("\n").slice(1)) {
      // sl local_address rem_address st tx:rx tr:when retrnsmt uid timeout inode …
      const cols = line.trim().split(/\s+/);
      if (cols.length < 10 || cols[3] !== LISTEN) continue;
      const [address, port] = cols[1]!.split(":");
      out.push({ inode: cols[9]!, address: address!, port: parseInt(port!, 16), queued: parseInt(cols[4]!.split(":")[1]!, 16) });
    }
  }
  return out;
}

/** Socket inode → fd number for this process's open sockets. */
function ownSockets(): Map<string, number> {
  const map = new Map<string, number>();
  let fds: string[];
  try {
    fds = readdirSync("/proc/self/fd");
  } catch {
    return map;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`));
      if (m) map.set(m[1]!, Number(fd));
    } catch {
      // closed between readdir and readlink
    }
  }
  return map;
}

/**
 * Bind `hostname:port` without SO_REUSEPORT and let it go: throws EADDRINUSE when any process holds
 * the port (even one sharing it with SO_REUSEPORT), and turns port 0 into the free port to bind.
 * A bare TCP listener (Bun.listen) does this for a fraction of a whole Bun.serve's start and stop.
 */
export function probeFreePort(hostname: string, port: number): number {
  const probe = Bun.listen({ hostname, port, socket: { data() {} } });
  const free = probe.port;
  probe.stop(true);
  return free;
}

/** Our listening fds on each of `ports`, from one read of /proc/net/tcp{,6} and /proc/self/fd. */
function ownListeners(ports: number[]): Map<number, number[]> {
  const own = ownSockets();
  const byPort = new Map<number, number[]>(ports.map((p) => [p, []]));
  for (const l of tcpListeners()) {
    const fd = own.get(l.inode);
    if (fd !== undefined) byPort.get(l.port)?.push(fd);
  }
  return byPort;
}

/** This process's listening fds on `port`. */
export function ownListenerFds(port: number): number[] {
  return ownListeners([port]).get(port)!;
}

/**
 * Connections the kernel accepted for our listeners on `ports` that this process has not taken
 * yet. Closing a listener resets them, so a handover waits for this to reach 0 first.
 */
export function ownAcceptQueue(ports: number[]): number {
  const own = ownSockets();
  return tcpListeners()
    .filter((l) => ports.includes(l.port) && own.has(l.inode))
    .reduce((n, l) => n + l.queued, 0);
}

/**
 * Steer new connections on each of `ports` to the group member at `index`: 0 = the oldest listener
 * (a server keeps its port to itself, and a reload's new process gets nothing until it is ready),
 * 1 = the newest (the handover moment). True when every one of our listeners on every port took it.
 * /proc is read once for all ports.
 */
export function steerPorts(ports: number[], index: 0 | 1): boolean {
  let ok = true;
  for (const fds of ownListeners(ports).values()) ok = fds.length > 0 && fds.map((fd) => steerReuseportGroup(fd, index)).every(Boolean) && ok;
  return ok;
}

/** steerPorts for one port. */
export const steerPort = (port: number, index: 0 | 1): boolean => steerPorts([port], index);
