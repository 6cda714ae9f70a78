// IP address facts for outbound connections the server makes on a user's behalf (git clones):
// which addresses are public, and CIDR matching for the operator's allow list. Pure functions.
export type Ip = { family: 4; value: bigint } | { family: 6; value: bigint };

/** Dotted-quad IPv4 only (what resolvers return); other spellings are resolved, not parsed. */
function parseIPv4(s: string): bigint | null {
  const parts = s.split(".");
  if (parts.length !== 4) return null;
  let v = 0n;
  for (const p of parts) {
    if (!/^\d{1,3}$/.test(p) || Number(p) > 255) return null;
    v = (v << 8n) | BigInt(Number(p));
  }
  return v;
}

function parseIPv6(input: string): bigint | null {
  let s = input.replace(/^\[|\]$/g, "").toLowerCase();
  if (s.includes("%")) s = s.slice(0, s.indexOf("%")); // zone id: same address
  // a trailing dotted quad (::ffff:1.2.3.4) becomes two hex groups
  const quad = /(\d+\.\d+\.\d+\.\d+)$/.exec(s);
  if (quad) {
    const v4 = parseIPv4(quad[1]!);
    if (v4 === null) return null;
    s = s.slice(0, -quad[1]!.length) + `${(v4 >> 16n).toString(16)}:${(v4 & 0xffffn).toString(16)}`;
  }
  const halves = s.split("::");
  if (halves.length > 2) return null;
  const head = halves[0] ? halves[0].split(":") : [];
  const tail = halves.length === 2 && halves[1] ? halves[1].split(":") : [];
  const missing = 8 - head.length - tail.length;
  if (halves.length === 1 ? missing !== 0 : missing < 1) return null;
  const groups = [...head, ...Array(halves.length === 2 ? missing : 0).fill("0"), ...tail];
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-f]{1,4}$/.test(g)) return null;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  return v;
}

export function parseIp(s: string): Ip | null {
  const v4 = parseIPv4(s);
  if (v4 !== null) return { family: 4, value: v4 };
  const v6 = s.includes(":") ? parseIPv6(s) : null;
  return v6 === null ? null : { family: 6, value: v6 };
}

export type Cidr = { family: 4 | 6; base: bigint; bits: number };

export function parseCidr(s: string): Cidr | null {
  const [addr, len, extra] = s.trim().split("/");
  if (extra !== undefined || !addr) return null;
  const ip = parseIp(addr);
  if (!ip) return null;
  const max = ip.family === 4 ? 32 : 128;
  const bits = len === undefined ? max : /^\d{1,3}$/.test(len) ? Number(len) : NaN;
  if (!(bits >= 0 && bits <= max)) return null;
  return { family: ip.family, base: ip.value >> BigInt(max - bits), bits };
}

export function inCidr(ip: Ip, c: Cidr): boolean {
  if (ip.family !== c.family) return false;
  const max = ip.family === 4 ? 32 : 128;
  return ip.value >> BigInt(max - c.bits) === c.base;
}

const cidrs = (list: [string, string][]) => list.map(([c, kind]) => ({ cidr: parseCidr(c)!, kind }));

// Addresses a server must not reach for an untrusted user (RFC 6890 special-purpose registries).
const V4_SPECIAL = cidrs([
  ["0.0.0.0/8", "unspecified"],
  ["10.0.0.0/8", "private"],
  ["100.64.0.0/10", "shared (CGNAT)"],
  ["127.0.0.0/8", "loopback"],
  ["169.254.0.0/16", "link-local"],
  ["172.16.0.0/12", "private"],
  ["192.0.0.0/24", "reserved"],
  ["192.0.2.0/24", "documentation"],
  ["192.88.99.0/24", "reserved"],
  ["192.168.0.0/16", "private"],
  ["198.18.0.0/15", "benchmarking"],
  ["198.51.100.0/24", "documentation"],
  ["203.0.113.0/24", "documentation"],
  ["224.0.0.0/4", "multicast"],
  ["240.0.0.0/4", "reserved"],
]);
const V6_SPECIAL = cidrs([
  ["::/128", "unspecified"],
  ["::1/128", "loopback"],
  ["100::/64", "discard"],
  ["2001:db8::/32", "documentation"],
  ["fc00::/7", "unique local (private)"],
  ["fe80::/10", "link-local"],
  ["fec0::/10", "site-local"],
  ["ff00::/8", "multicast"],
]);
// IPv6 forms that carry an IPv4 address: judged by the IPv4 address inside
const V6_EMBEDDING: { cidr: Cidr; extract: (v: bigint) => bigint }[] = [
  { cidr: parseCidr("::ffff:0:0/96")!, extract: (v) => v & 0xffffffffn }, // IPv4-mapped
  { cidr: parseCidr("::/96")!, extract: (v) => v & 0xffffffffn }, // IPv4-compatible (deprecated)
  { cidr: parseCidr("64:ff9b::/96")!, extract: (v) => v & 0xffffffffn }, // NAT64
  { cidr: parseCidr("64:ff9b:1::/48")!, extract: (v) => v & 0xffffffffn }, // local NAT64
  { cidr: parseCidr("2002::/16")!, extract: (v) => (v >> 80n) & 0xffffffffn }, // 6to4
];

const TEREDO = parseCidr("2001::/32")!; // reaches an arbitrary IPv4 address

/** Why an address is not public ("loopback", "private", …), or null for a public address. */
export function nonPublicKind(ip: Ip): string | null {
  if (ip.family === 4) return V4_SPECIAL.find((r) => inCidr(ip, r.cidr))?.kind ?? null;
  const direct = V6_SPECIAL.find((r) => inCidr(ip, r.cidr));
  if (direct) return direct.kind;
  const embedded = V6_EMBEDDING.find((e) => inCidr(ip, e.cidr));
  if (embedded) {
    const inner = nonPublicKind({ family: 4, value: embedded.extract(ip.value) });
    return inner && `${inner}, inside an IPv6 address`;
  }
  if (inCidr(ip, TEREDO)) return "Teredo tunnel";
  return null;
}
