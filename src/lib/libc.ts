// The few socket calls Bun does not expose, through bun:ffi on the C library: attaching a
// reuseport steering program to a listener (zero-drop reloads) and sending a datagram to systemd's
// notify socket. Linux only; loaded on first use, and every caller copes with `null` (no libc,
// another OS): reloads then still work, only without the steering guarantee.
// bun:ffi itself is required on first use too (~5 ms to load; `ancla serve` listens without it).
import type { dlopen as Dlopen, ptr as Ptr } from "bun:ffi";

const ffi = () => require("bun:ffi") as typeof import("bun:ffi");
const ptr: typeof Ptr = (...args) => ffi().ptr(...args);

const SOL_SOCKET = 1;
const SO_ATTACH_REUSEPORT_CBPF = 51; // same value on x86-64 and arm64 (asm-generic/socket.h)
const AF_UNIX = 1;
const SOCK_DGRAM = 2;
const SOCK_CLOEXEC = 0o2000000;
const MSG_NOSIGNAL = 0x4000;
const BPF_RET_K = 0x06; // BPF_RET | BPF_K: "return the constant k"

const symbols = {
  setsockopt: { args: ["i32", "i32", "i32", "ptr", "u32"], returns: "i32" },
  socket: { args: ["i32", "i32", "i32"], returns: "i32" },
  sendto: { args: ["i32", "ptr", "u64", "i32", "ptr", "u32"], returns: "i64" },
  close: { args: ["i32"], returns: "i32" },
} as const;

type Libc = ReturnType<typeof Dlopen<typeof symbols>>["symbols"];
let loaded: Libc | null | undefined;

function libc(): Libc | null {
  if (loaded !== undefined) return loaded;
  loaded = null;
  if (process.platform !== "linux") return null;
  for (const name of ["libc.so.6", "libc.so"]) {
    try {
      loaded = ffi().dlopen(name, symbols).symbols;
      break;
    } catch {
      // musl or an unusual layout: try the next name, else run without the extras
    }
  }
  return loaded;
}

export const libcAvailable = (): boolean => libc() !== null;

/**
 * Make the kernel hand every new connection of `fd`'s SO_REUSEPORT group to the member at `index`
 * (members are numbered in bind order; when one closes, the last takes its slot). An index past
 * the last member falls back to the kernel's hash. Returns false when it could not be attached.
 */
export function steerReuseportGroup(fd: number, index: number): boolean {
  const c = libc();
  if (!c) return false;
  // struct sock_filter { u16 code; u8 jt; u8 jf; u32 k; } — one instruction: return index
  const filter = new Uint8Array(8);
  const f = new DataView(filter.buffer);
  f.setUint16(0, BPF_RET_K, true);
  f.setUint32(4, index, true);
  // struct sock_fprog { u16 len; (padding) struct sock_filter *filter; } on 64-bit
  const prog = new Uint8Array(16);
  const p = new DataView(prog.buffer);
  p.setUint16(0, 1, true);
  p.setBigUint64(8, BigInt(ptr(filter)), true);
  return c.setsockopt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_CBPF, ptr(prog), prog.length) === 0;
}

/** One datagram to a unix socket path (`@name` = abstract namespace). False on any failure. */
export function sendUnixDatagram(path: string, message: string): boolean {
  const c = libc();
  if (!c || path.length === 0 || path.length > 107) return false;
  const abstract = path.startsWith("@");
  const name = Buffer.from(abstract ? path.slice(1) : path);
  // struct sockaddr_un { sa_family_t (u16) sun_family; char sun_path[108]; }
  const addr = new Uint8Array(110);
  new DataView(addr.buffer).setUint16(0, AF_UNIX, true);
  addr.set(name, abstract ? 3 : 2);
  const addrLen = 2 + (abstract ? 1 + name.length : name.length + 1);
  const fd = c.socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  if (fd < 0) return false;
  try {
    const body = Buffer.from(message);
    return Number(c.sendto(fd, ptr(body), body.length, MSG_NOSIGNAL, ptr(addr), addrLen)) === body.length;
  } finally {
    c.close(fd);
  }
}
